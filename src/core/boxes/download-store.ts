import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../util/errors";

export class DownloadError extends HangarError {}

export interface FetchOptions {
  sha256: string;
  size?: number;
  onProgress?(received: number, total: number | undefined): void;
  signal?: AbortSignal;
}

/**
 * Downloads kept by content: `<dir>/sha256/<digest>`. A file is published only
 * after its digest matched (temp file, fsync, rename), so the cache never
 * holds a wrong or torn file. An interrupted download resumes with an HTTP
 * Range request from its `.partial` file.
 */
export class DownloadStore {
  constructor(readonly dir: string) {}

  pathFor(sha256: string): string {
    return path.join(this.dir, "sha256", sha256);
  }

  async fetch(url: string, o: FetchOptions): Promise<string> {
    const file = this.pathFor(o.sha256);
    const done = await fs.stat(file).catch(() => undefined);
    if (done && (o.size === undefined || done.size === o.size)) return file;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    let have = (await fs.stat(partial).catch(() => undefined))?.size ?? 0;
    if (o.size !== undefined && have > o.size) {
      await fs.rm(partial, { force: true });
      have = 0;
    }
    const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: o.signal });
    } catch (err) {
      throw new DownloadError(`Downloading ${url} failed: ${(err as Error).message}.`, "Check the network and the Debian mirror setting, then try again; finished parts are kept.");
    }
    if (res.status === 416 && have > 0) {
      // Already complete: fall through to verification.
    } else if (res.status === 200 || res.status === 206) {
      if (res.status === 200) have = 0; // the server ignored the range: start over
      const handle = await fs.open(partial, have > 0 ? "a" : "w");
      try {
        const total = o.size ?? (Number(res.headers.get("content-length")) || undefined);
        let received = have;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          await handle.write(chunk);
          received += chunk.byteLength;
          o.onProgress?.(received, total);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
    } else {
      throw new DownloadError(`Downloading ${url} failed: HTTP ${res.status} ${res.statusText}.`, "Check the Debian mirror setting (hangar.debianMirror).");
    }
    const actual = await sha256File(partial);
    if (actual !== o.sha256) {
      await fs.rm(partial, { force: true });
      throw new DownloadError(`The download of ${url} is corrupt: its sha256 is ${actual}, the index says ${o.sha256}. Nothing was kept.`, "Try again; if it persists the mirror is inconsistent — use another.");
    }
    await fs.rename(partial, file);
    return file;
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}
