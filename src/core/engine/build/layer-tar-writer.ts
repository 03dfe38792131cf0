import { createHash } from "node:crypto";
import { constants as fsc, createWriteStream, promises as fs } from "node:fs";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";

/**
 * One member of a layer the builder writes on the host: a path relative to
 * the image root ("app/x", no leading or trailing "/"), with the owner and
 * mode it gets in the image, and its bytes from a host file or a buffer.
 */
export interface LayerItem {
  name: string;
  type: "file" | "directory" | "symlink" | "link";
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
  /** Host file holding a regular file's bytes. */
  source?: string;
  body?: Buffer;
  size?: number;
}

/** O_NOFOLLOW is POSIX; Windows has no symlinks to guard against here. */
export const NOFOLLOW = fsc.O_NOFOLLOW ?? 0;

/** A source file (of an untrusted context or stage) for reading; a symlink put in its place is refused, not followed. */
export function openSource(file: string): Promise<fs.FileHandle> {
  return fs.open(file, fsc.O_RDONLY | NOFOLLOW);
}

/** Later items replace earlier ones at the same path; the result is sorted by name (parents before children). */
export function normaliseItems(items: LayerItem[]): LayerItem[] {
  const byName = new Map<string, LayerItem>();
  for (const item of items) byName.set(item.name, item);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes an uncompressed tar of the items, in the given order (call normaliseItems first). Deterministic for the same items. */
export async function writeLayerTar(file: string, items: LayerItem[]): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(file));
  writing.catch(() => undefined); // awaited below; an entry error reaches us first
  for (const item of items) {
    const header: tar.Header = {
      name: item.type === "directory" ? `${item.name}/` : item.name,
      type: item.type,
      mode: item.mode & 0o7777,
      uid: item.uid,
      gid: item.gid,
      mtime: item.mtime,
      size: 0,
      uname: "",
      gname: "",
      devmajor: 0,
      devminor: 0,
      linkname: item.linkname ?? "",
    };
    if (item.type !== "file") {
      pack.entry(header);
      continue;
    }
    if (item.body) {
      pack.entry({ ...header, size: item.body.length }, item.body);
      continue;
    }
    const source = await openSource(item.source as string);
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ ...header, size: item.size ?? 0 }, (err) => (err ? reject(err) : resolve()));
      source
        .createReadStream()
        .on("error", reject)
        .pipe(entry as unknown as NodeJS.WritableStream);
    });
  }
  pack.finalize();
  await writing;
}

/** sha256 over what the layer holds (names, types, modes, owners, link targets, bytes), not times: the cache key of COPY/ADD. */
export async function itemsChecksum(items: LayerItem[]): Promise<string> {
  const hash = createHash("sha256");
  for (const item of items) {
    hash.update(JSON.stringify([item.name, item.type, item.mode & 0o7777, item.uid, item.gid, item.linkname ?? ""]));
    if (item.type === "file") {
      if (item.body) hash.update(item.body);
      else {
        const fileHash = createHash("sha256");
        await pipeline((await openSource(item.source as string)).createReadStream(), fileHash);
        hash.update(fileHash.digest());
      }
    }
    hash.update("\n");
  }
  return hash.digest("hex");
}
