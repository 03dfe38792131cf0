import type { Readable } from "node:stream";
import { JsonMessageSplitter } from "../../../core/docker/build/build-progress";
import { credentialsFromDockerConfig } from "../../../core/engine/registry/registry-credentials";
import { registryOf } from "../../../core/engine/registry/registry-client";
import { parseReference } from "../../../core/engine/images/image-reference";
import { CancelledError, HangarError } from "../../../core/util/errors";
import type { TaskProgress } from "../hangar-command";

interface Message {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Follows a pull or push's JSON stream into a progress notification (the
 * latest status, and the bytes done of those known), and fails with the
 * stream's error. Returns every status line.
 */
export async function followRegistryStream(stream: Readable, progress: TaskProgress): Promise<string[]> {
  const splitter = new JsonMessageSplitter();
  const bytes = new Map<string, { current: number; total: number }>();
  const lines: string[] = [];
  const take = (messages: Message[]): void => {
    for (const m of messages) {
      if (m.error || m.errorDetail) throw new HangarError(m.errorDetail?.message ?? m.error ?? "The registry operation failed.");
      if (m.id && m.progressDetail?.total) bytes.set(m.id, { current: m.progressDetail.current ?? 0, total: m.progressDetail.total });
      if (!m.status) continue;
      lines.push(m.id ? `${m.id}: ${m.status}` : m.status);
      const done = [...bytes.values()].reduce((n, b) => n + b.current, 0);
      const total = [...bytes.values()].reduce((n, b) => n + b.total, 0);
      if (total) progress.report(`${m.status} (${Math.ceil(done / 1024)} of ${Math.ceil(total / 1024)} KiB)`, done / total);
      else progress.report(m.status);
    }
  };
  progress.signal.addEventListener("abort", () => stream.destroy(new CancelledError("Cancelled.")));
  for await (const chunk of stream) take(splitter.push(String(chunk)) as Message[]);
  take(splitter.end() as Message[]);
  return lines;
}

/** Docker's auth config for an image's registry from the docker CLI's stored logins (what the docker CLI itself sends). */
export async function storedAuth(ref: string): Promise<{ username?: string; password?: string; identitytoken?: string; serveraddress: string } | undefined> {
  const where = registryOf(parseReference(ref).name, undefined);
  if (!where) return undefined;
  const creds = await credentialsFromDockerConfig(where.domain);
  if (!creds) return undefined;
  return {
    serveraddress: where.domain,
    ...(creds.username ? { username: creds.username, password: creds.password ?? "" } : {}),
    ...(creds.identityToken ? { identitytoken: creds.identityToken } : {}),
  };
}
