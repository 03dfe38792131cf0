import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tar from "tar-stream";
import type { SyncedFolder } from "../vagrantfile/machine-config";
import { shellQuote } from "./machine-runner";
import type { MachineSession } from "./machine-session";
import { HangarError } from "../util/errors";

/** Never copied into a guest: Hangar's and Vagrant's own state. */
const ALWAYS_EXCLUDED = [".hangar/", ".vagrant/"];

/**
 * Puts a synced folder's host content at its guest path when a machine comes
 * up: one tar stream over the machine's SSH session (files, directories,
 * symlinks, modes), honouring `rsync__exclude`. Live sync of later edits is a
 * separate service; this is the initial state.
 */
export async function uploadFolder(folder: SyncedFolder, projectDir: string, session: MachineSession, extraExcludes: string[] = []): Promise<number> {
  const root = path.resolve(projectDir, folder.hostPath);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new HangarError(`The synced folder ${folder.hostPath} (${root}) is not a folder on this computer.`);
  const excluded = compileExcludes([...ALWAYS_EXCLUDED, ...folder.exclude, ...extraExcludes]);
  const pack = tar.pack();
  let count = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (excluded(relPath, e.isDirectory())) continue;
      const abs = path.join(root, relPath);
      const st = await fs.lstat(abs);
      if (e.isSymbolicLink()) pack.entry({ name: relPath, type: "symlink", linkname: await fs.readlink(abs), mode: 0o777 });
      else if (e.isDirectory()) {
        pack.entry({ name: relPath, type: "directory", mode: st.mode & 0o7777 });
        await walk(relPath);
      } else if (e.isFile()) pack.entry({ name: relPath, mode: st.mode & 0o7777, mtime: st.mtime }, await fs.readFile(abs));
      else continue;
      count++;
    }
  };
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  await walk("");
  pack.finalize();
  await new Promise<void>((resolve) => pack.on("end", resolve));
  const guest = shellQuote(folder.guestPath);
  const r = await session.run(`mkdir -p ${guest} && tar -x -C ${guest}`, { stdin: Buffer.concat(chunks) });
  if (r.code !== 0) throw new HangarError(`Copying ${folder.hostPath} to ${folder.guestPath} in the machine failed: ${r.stderr.trim()}`);
  return count;
}

/** rsync-style patterns: "dir/" matches directories, a leading "/" anchors at the root, * and ? glob within a name. */
function compileExcludes(patterns: string[]): (rel: string, isDir: boolean) => boolean {
  const rules = patterns.map((p) => {
    const dirOnly = p.endsWith("/");
    const anchored = p.startsWith("/");
    const body = p.replace(/^\//, "").replace(/\/$/, "");
    const re = new RegExp(`^${body.split("*").map((s) => s.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\?/g, "[^/]")).join("[^/]*")}$`);
    return { dirOnly, anchored, re, hasSlash: body.includes("/") };
  });
  return (rel, isDir) =>
    rules.some((r) => {
      if (r.dirOnly && !isDir) return false;
      if (r.anchored || r.hasSlash) return r.re.test(rel);
      return r.re.test(rel.split("/").pop()!);
    });
}
