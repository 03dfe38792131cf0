import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable, Writable } from "node:stream";
import * as tar from "tar-stream";

/** Builders for the tars the image tests feed the store: layers and whole archives, well-formed or hostile. */

export interface TarItem {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo";
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  mtime?: Date;
}

const FIXED_TIME = new Date("2024-01-02T03:04:05Z");

export async function makeTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const item of items) {
    const type = item.type ?? "file";
    const header = { name: item.name, type, mode: item.mode ?? (type === "directory" ? 0o755 : 0o644), mtime: item.mtime ?? FIXED_TIME, linkname: item.linkname };
    if (type === "file") pack.entry(header, typeof item.body === "string" ? Buffer.from(item.body) : (item.body ?? Buffer.alloc(0)));
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function hex(digest: string): string {
  return digest.slice("sha256:".length);
}

export function stream(data: Buffer): NodeJS.ReadableStream {
  return Readable.from([data]);
}

/** A writable that collects what is written, and the bytes once finished. */
export function collector(): { sink: NodeJS.WritableStream; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

/** Reads a tar back as name → content (files), name → "-> target" (links), name → "/" (folders). */
export async function readTar(data: Buffer): Promise<Map<string, Buffer | string>> {
  const out = new Map<string, Buffer | string>();
  const extract = tar.extract();
  Readable.from([data]).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
    const h = entry.header;
    out.set(h.name, h.type === "file" ? Buffer.concat(chunks) : h.type === "directory" ? "/" : `-> ${h.linkname}`);
  }
  return out;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-images-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeLayerFile(dir: string, name: string, items: TarItem[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, await makeTar(items));
  return file;
}

/** Every path under `dir` (relative, sorted), folders with a trailing "/". */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(p);
    }
  };
  await walk("");
  return out.sort();
}
