import { createHash, type Hash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { fsyncDir } from "../util/atomic-file";
import { HangarError } from "../util/errors";

export interface CacheFetchOptions {
  /** The expected sha256 (hex): the cache key and what the bytes are checked against. */
  sha256: string;
  /** The expected size in bytes, when the index gives it: invalidates a cached file of another size, stops a server that sends more. */
  size?: number;
  /** Bytes received so far (counting a resumed part) and the total, when known. */
  onProgress?(received: number, total: number | undefined): void;
  signal?: AbortSignal;
  /** Network attempts per call, each resuming from what the previous one kept. Default 3. */
  attempts?: number;
}

/** A download failed; what was already received is kept for the next try. */
export class DownloadError extends HangarError {}

/** The bytes did not hash to what the index promised; nothing was kept. */
export class DownloadDigestMismatchError extends DownloadError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `The download of ${url} is corrupt: its sha256 is ${actual}, but ${expected} was expected. Nothing was kept.`,
      "Try again; if it happens again the mirror is inconsistent (mid-sync or damaged): use another mirror.",
    );
  }
}

/**
 * Downloads kept by content: `<dir>/sha256/<hex>`. The name is the digest the
 * bytes were checked against when they arrived, so a later hit is trusted
 * without re-hashing (only a size that disagrees with the caller's
 * invalidates it). Bytes arrive in `<hex>.partial`; an interrupted transfer
 * (network drop, abort, crash) resumes from it with an HTTP Range request,
 * and the file is published by an atomic rename only after its digest
 * matched, so the cache never holds a torn or wrong file.
 *
 * Within one process, fetches of the same digest run one after another (the
 * second is then a hit). Two processes fetching the same digest at once would
 * share the `.partial` file; the digest check catches the damage.
 */
export class DownloadCache {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly dir: string) {}

  /** Where the file with this digest is (or would be) kept. */
  pathFor(sha256: string): string {
    return path.join(this.dir, "sha256", checkedDigest(sha256));
  }

  async fetch(url: string, options: CacheFetchOptions): Promise<string> {
    const hex = checkedDigest(options.sha256);
    const previous = this.queues.get(hex) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.fetchNow(url, hex, options));
    this.queues.set(hex, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(hex) === run) this.queues.delete(hex);
    }
  }

  private async fetchNow(url: string, hex: string, o: CacheFetchOptions): Promise<string> {
    o.signal?.throwIfAborted();
    const file = path.join(this.dir, "sha256", hex);
    const cached = await fs.stat(file).catch(() => undefined);
    if (cached && (o.size === undefined || cached.size === o.size)) return file;
    if (cached) await fs.rm(file, { force: true }); // a size the index disagrees with: not the file it names
    await fs.mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    const attempts = Math.max(1, o.attempts ?? 3);
    let startedFresh = false;
    for (let attempt = 1; ; attempt++) {
      const hadPartial = (await fs.stat(partial).catch(() => undefined)) !== undefined;
      let digest: string;
      try {
        digest = await this.transfer(url, partial, o);
      } catch (err) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (!(err instanceof NetworkError)) throw err;
        if (attempt >= attempts) {
          const kept = (await fs.stat(partial).catch(() => undefined))?.size ?? 0;
          throw new DownloadError(
            `Downloading ${url} failed after ${attempts} attempt${attempts > 1 ? "s" : ""}: ${err.message}.${kept ? ` The ${kept} bytes received are kept; the next try resumes from them.` : ""}`,
            "Check the network connection and the mirror, then try again.",
          );
        }
        await delay(500 * attempt, o.signal);
        continue;
      }
      if (digest === hex) break;
      await fs.rm(partial, { force: true });
      // A part left over from an earlier run may be what is wrong (another
      // server's bytes, a damaged disk): start over once before giving up.
      if (hadPartial && !startedFresh) {
        startedFresh = true;
        continue;
      }
      throw new DownloadDigestMismatchError(url, hex, digest);
    }
    await fs.rename(partial, file);
    await fsyncDir(path.dirname(file));
    return file;
  }

  /** One HTTP request: appends to (or restarts) `partial` and returns the digest of the whole part. */
  private async transfer(url: string, partial: string, o: CacheFetchOptions): Promise<string> {
    let have = (await fs.stat(partial).catch(() => undefined))?.size ?? 0;
    if (o.size !== undefined && have > o.size) {
      await fs.rm(partial, { force: true });
      have = 0;
    }
    let hash = createHash("sha256");
    if (have > 0) await hashFile(partial, hash);
    if (have > 0 && have === o.size) return hash.digest("hex"); // complete already; only the rename was missing
    o.onProgress?.(have, o.size);

    let res: Response;
    try {
      res = await fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal: o.signal });
    } catch (err) {
      throw new NetworkError(causeMessage(err));
    }
    let total = o.size;
    let append = false;
    if (res.status === 206 && have > 0) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== have) {
        // Not the range asked for: the part cannot be continued from this answer.
        await res.body?.cancel();
        await fs.rm(partial, { force: true });
        return this.transfer(url, partial, o);
      }
      append = true;
      total ??= range[3] === "*" ? undefined : Number(range[3]);
    } else if (res.status === 200) {
      // A server that ignores Range sends everything: start the part over.
      have = 0;
      hash = createHash("sha256");
      const length = Number(res.headers.get("content-length"));
      total ??= Number.isFinite(length) && length > 0 ? length : undefined;
    } else if (res.status === 416 && have > 0) {
      // Nothing after our offset: the part is all there is. The digest decides.
      await res.body?.cancel();
      return hash.digest("hex");
    } else {
      await res.body?.cancel();
      const message = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new NetworkError(message);
      throw new DownloadError(`Downloading ${url} failed: ${message}.`, "Check that the mirror URL is right and the mirror is complete.");
    }

    const handle = await fs.open(partial, append ? "a" : "w");
    let received = have;
    try {
      o.onProgress?.(received, total);
      const reader = res.body?.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<NonNullable<typeof reader>["read"]>> | undefined;
        try {
          chunk = await reader?.read();
        } catch (err) {
          throw new NetworkError(causeMessage(err));
        }
        if (!chunk || chunk.done) break;
        received += chunk.value.byteLength;
        if (o.size !== undefined && received > o.size) {
          await reader?.cancel();
          await handle.close().catch(() => undefined);
          await fs.rm(partial, { force: true });
          throw new DownloadError(
            `Downloading ${url} failed: the server sent more than the expected ${o.size} bytes. Nothing was kept.`,
            "The mirror may be mid-sync or damaged: try again later or use another mirror.",
          );
        }
        await handle.write(chunk.value);
        hash.update(chunk.value);
        o.onProgress?.(received, total);
      }
      await handle.sync();
    } finally {
      await handle.close().catch(() => undefined); // already closed on the too-long path
    }
    return hash.digest("hex");
  }
}

/** A transient failure (connection refused or dropped, 5xx): worth another attempt, the part is kept. */
class NetworkError extends Error {}

function checkedDigest(sha256: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new HangarError(`"${sha256}" is not a sha256 digest (64 hex digits).`);
  return sha256.toLowerCase();
}

/** Node's fetch says only "fetch failed" / "terminated"; the cause says why. */
function causeMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

function hashFile(file: string, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve());
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
