import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fsyncDir } from "../../util/atomic-file";
import { DIGEST_PATTERN } from "./image-config";

/** A file written into a staging folder, with the sha256 of what was written. */
export interface StagedFile {
  path: string;
  digest: string;
  size: number;
}

/**
 * The content-addressed blobs of an OCI image layout: `blobs/sha256/<hex>`.
 * Blobs arrive in a staging folder (`.tmp/` beside `blobs/`, on the same
 * filesystem) with their digest computed as they are written, and are
 * published by rename once whole and fsynced. A blob's name is always the
 * digest of its bytes, so a crash leaves at worst an unreferenced blob, never
 * a wrong one.
 */
export class BlobStore {
  readonly dir: string;
  readonly stagingRoot: string;
  constructor(readonly root: string) {
    this.dir = path.join(root, "blobs", "sha256");
    this.stagingRoot = path.join(root, ".tmp");
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await fs.mkdir(this.stagingRoot, { recursive: true });
  }

  path(digest: string): string {
    if (!DIGEST_PATTERN.test(digest)) throw new Error(`not a sha256 digest: ${digest}`);
    return path.join(this.dir, digest.slice("sha256:".length));
  }

  async has(digest: string): Promise<boolean> {
    return (await fs.stat(this.path(digest)).catch(() => undefined)) !== undefined;
  }

  /** A fresh staging folder; the caller removes it (`discardStaging`). */
  newStaging(prefix: string): Promise<string> {
    return fs.mkdtemp(path.join(this.stagingRoot, `${prefix}-`));
  }

  async discardStaging(dir: string): Promise<void> {
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** Writes `source` to a new file in `stagingDir`, hashing it on the way. */
  async stage(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, stagingDir: string): Promise<StagedFile> {
    const file = path.join(stagingDir, `f-${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(source, hasher, createWriteStream(file, { flags: "wx" }));
    return { path: file, digest: `sha256:${hash.digest("hex")}`, size };
  }

  async stageBytes(bytes: Uint8Array, stagingDir: string): Promise<StagedFile> {
    const file = path.join(stagingDir, `f-${randomBytes(8).toString("hex")}`);
    await fs.writeFile(file, bytes, { flag: "wx" });
    return { path: file, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length };
  }

  /**
   * Publishes a staged file as the blob `digest` (which the caller verified).
   * Returns false, leaving the staged file, when the blob was already there.
   */
  async publish(staged: StagedFile): Promise<boolean> {
    const target = this.path(staged.digest);
    if (await this.has(staged.digest)) return false;
    const handle = await fs.open(staged.path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(staged.path, target);
    return true;
  }

  /** Makes the publishes since the last call durable (one directory fsync for many renames). */
  async sync(): Promise<void> {
    await fsyncDir(this.dir);
  }

  /** Deletes a blob; returns the bytes freed (0 when it was not there). */
  async remove(digest: string): Promise<number> {
    const file = this.path(digest);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) return 0;
    await fs.rm(file, { force: true });
    return st.size;
  }

  async size(digest: string): Promise<number | undefined> {
    return (await fs.stat(this.path(digest)).catch(() => undefined))?.size;
  }

  /** Every blob with its size and modification time. */
  async list(): Promise<Array<{ digest: string; size: number; mtimeMs: number }>> {
    const out: Array<{ digest: string; size: number; mtimeMs: number }> = [];
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      const st = await fs.stat(path.join(this.dir, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ digest: `sha256:${name}`, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  /** Removes staging folders a crashed process left, older than `ageMs`. */
  async sweepStaging(ageMs: number): Promise<void> {
    const now = Date.now();
    for (const name of await fs.readdir(this.stagingRoot).catch(() => [] as string[])) {
      const at = path.join(this.stagingRoot, name);
      const st = await fs.stat(at).catch(() => undefined);
      if (st && now - st.mtimeMs > ageMs) await fs.rm(at, { recursive: true, force: true });
    }
  }
}
