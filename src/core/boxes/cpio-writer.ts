import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createDeflateRaw } from "node:zlib";
import { HangarError } from "../util/errors";
import { FILE_TYPE_BITS } from "../util/file-type-bits";

/**
 * Writes an uncompressed cpio "newc" archive (magic 070701), the format the
 * Linux kernel unpacks as an initramfs (Documentation/driver-api/
 * early-userspace/buffer-format.rst), byte for byte the way the kernel's own
 * `usr/gen_init_cpio` lays it out:
 *  - a 110-byte ASCII header of 13 eight-digit UPPERCASE hex fields; the
 *    header plus the NUL-terminated name is padded with NULs to a multiple of
 *    4, and so is the data;
 *  - inode numbers from 721 up, one per entry in insertion order (hard links
 *    share one); device 3:1 for every entry, as gen_init_cpio writes;
 *  - nlink 2 for directories, 1 for the rest (the link count for hard links);
 *  - a symlink's data is its target plus a terminating NUL (filesize =
 *    length + 1);
 *  - the TRAILER!!! entry (inode 0, mode 0, nlink 1), then NULs up to a
 *    multiple of 512 bytes.
 * Deterministic: uid/gid 0 and mtime 0 unless given, nothing taken from the
 * host, so the same entries always give the same bytes.
 */

export interface CpioEntryOptions {
  /** Permission bits (& 0o7777); the file type comes from the add… method. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; default 0. */
  mtime?: number;
}

export interface CpioGzipOptions {
  /** zlib level 1–9; default 9 (an initramfs is written once and read at every boot). */
  level?: number;
  /** Bytes of the archive compressed so far, and its total size. */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

/** An entry cannot be put in the archive as asked (bad path, duplicate, value out of range). */
export class CpioError extends HangarError {}

type Kind = "file" | "directory" | "symlink" | "char-device" | "block-device";

const TYPE_BITS: Record<Kind, number> = FILE_TYPE_BITS;

interface Entry {
  path: string;
  kind: Kind;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  data: Buffer;
  rdevMajor: number;
  rdevMinor: number;
  /** Index of the entry whose inode this one shares (hard links), else its own index. */
  inodeOf: number;
}

const FIRST_INODE = 721; // gen_init_cpio's first inode number
const MAX_FIELD = 0xffffffff;

export class CpioWriter {
  private readonly entries: Entry[] = [];
  private readonly byPath = new Map<string, number>();

  /**
   * A directory. Adding one that exists (perhaps created implicitly as a
   * parent) updates its mode, owner and mtime but keeps its position.
   */
  addDirectory(path: string, options: CpioEntryOptions = {}): this {
    const p = normalise(path);
    const existing = this.byPath.get(p);
    if (existing !== undefined) {
      const e = this.entries[existing];
      if (e.kind !== "directory") throw new CpioError(`Cannot add the directory ${p} to the initramfs: a ${e.kind} of that name is already in it.`);
      Object.assign(e, attributes(p, options, 0o755));
      return this;
    }
    return this.push(p, "directory", options, 0o755, Buffer.alloc(0));
  }

  /** `data` is kept by reference, not copied (an initramfs holds tens of MB of modules): do not change it afterwards. */
  addFile(path: string, data: Uint8Array | string, options: CpioEntryOptions = {}): this {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.push(normalise(path), "file", options, 0o644, bytes);
  }

  /** `target` is stored as given: relative to the link's folder, or absolute within the guest. */
  addSymlink(path: string, target: string, options: CpioEntryOptions = {}): this {
    if (!target || target.includes("\0")) throw new CpioError(`Cannot add the symlink ${path} to the initramfs: its target "${target}" is empty or has a NUL.`);
    return this.push(normalise(path), "symlink", options, 0o777, Buffer.from(`${target}\0`, "utf8"));
  }

  addCharDevice(path: string, major: number, minor: number, options: CpioEntryOptions = {}): this {
    return this.push(normalise(path), "char-device", options, 0o600, Buffer.alloc(0), major, minor);
  }

  addBlockDevice(path: string, major: number, minor: number, options: CpioEntryOptions = {}): this {
    return this.push(normalise(path), "block-device", options, 0o600, Buffer.alloc(0), major, minor);
  }

  /**
   * Another name for a file already added. All names share one inode; as in
   * gen_init_cpio the data travels with the last of them, the others have
   * size 0 (the kernel links them by inode and fills the file when the data
   * comes).
   */
  addHardlink(path: string, target: string): this {
    const t = this.byPath.get(normalise(target));
    if (t === undefined || this.entries[t].kind !== "file") throw new CpioError(`Cannot add the hard link ${path} to the initramfs: its target ${target} is not a file already in it.`);
    const source = this.entries[t];
    this.push(normalise(path), "file", source, source.mode, source.data);
    this.entries[this.entries.length - 1].inodeOf = source.inodeOf;
    return this;
  }

  has(path: string): boolean {
    return this.byPath.has(normalise(path));
  }

  /** The archive, uncompressed. */
  toBuffer(): Buffer {
    const inodes = new Map<number, number>(); // first index of an inode group → inode number
    const links = new Map<number, number[]>(); // inode group → indexes of its names
    for (const [i, e] of this.entries.entries()) {
      if (!inodes.has(e.inodeOf)) inodes.set(e.inodeOf, FIRST_INODE + inodes.size);
      const group = links.get(e.inodeOf);
      if (group) group.push(i);
      else links.set(e.inodeOf, [i]);
    }
    const parts: Buffer[] = [];
    let offset = 0;
    const put = (b: Buffer): void => {
      parts.push(b);
      offset += b.length;
    };
    const pad = (to: number): void => {
      if (offset % to) put(Buffer.alloc(to - (offset % to)));
    };
    const entry = (fields: number[], name: string, data: Buffer): void => {
      const nameBytes = Buffer.from(`${name}\0`, "utf8");
      put(header([...fields.slice(0, 11), nameBytes.length, 0]));
      put(nameBytes);
      pad(4);
      if (data.length) {
        put(data);
        pad(4);
      }
    };
    for (const [i, e] of this.entries.entries()) {
      const group = links.get(e.inodeOf)!;
      const carriesData = e.kind !== "file" || group[group.length - 1] === i;
      const data = carriesData ? e.data : Buffer.alloc(0);
      const nlink = e.kind === "directory" ? 2 : group.length;
      entry([inodes.get(e.inodeOf)!, TYPE_BITS[e.kind] | e.mode, e.uid, e.gid, nlink, e.mtime, data.length, 3, 1, e.rdevMajor, e.rdevMinor], e.path, data);
    }
    entry([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], "TRAILER!!!", Buffer.alloc(0));
    pad(512);
    return Buffer.concat(parts, offset);
  }

  /**
   * The archive gzip-compressed with a fixed header (no name, mtime 0, OS
   * "Unix" whatever the host), so the same entries give the same bytes. Byte
   * identity holds for one zlib build: another Node version may bundle a
   * zlib that compresses differently (the output stays valid).
   */
  async toGzip(options: CpioGzipOptions = {}): Promise<Buffer> {
    const raw = this.toBuffer();
    const level = options.level ?? 9;
    const chunk = 1 << 20;
    async function* source(): AsyncGenerator<Buffer> {
      for (let at = 0; at < raw.length; at += chunk) {
        yield raw.subarray(at, at + chunk);
        options.onProgress?.(Math.min(at + chunk, raw.length), raw.length);
      }
    }
    const compressed: Buffer[] = [];
    await pipeline(
      Readable.from(source()),
      createDeflateRaw({ level }),
      async (deflated: AsyncIterable<Buffer>) => {
        for await (const c of deflated) compressed.push(c);
      },
      { signal: options.signal },
    );
    // RFC 1952: ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=3, then the deflate data, CRC32, ISIZE.
    const head = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level >= 9 ? 2 : level <= 1 ? 4 : 0, 3]);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(crc32(raw), 0);
    tail.writeUInt32LE(raw.length % 0x100000000, 4);
    return Buffer.concat([head, ...compressed, tail]);
  }

  private push(path: string, kind: Kind, options: CpioEntryOptions, defaultMode: number, data: Buffer, rdevMajor = 0, rdevMinor = 0): this {
    if (this.byPath.has(path)) throw new CpioError(`Cannot add ${path} to the initramfs twice.`, "Each path may appear once; check which package or step adds it again.");
    for (const [name, value] of [
      ["size", data.length],
      ["major", rdevMajor],
      ["minor", rdevMinor],
    ] as const)
      checkField(path, name, value);
    this.ensureParents(path);
    this.byPath.set(path, this.entries.length);
    this.entries.push({ ...attributes(path, options, defaultMode), path, kind, data, rdevMajor, rdevMinor, inodeOf: this.entries.length });
    return this;
  }

  /** The kernel does not create missing parent folders while unpacking: add them (0755, root) first. */
  private ensureParents(path: string): void {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const existing = this.byPath.get(dir);
      if (existing === undefined) this.push(dir, "directory", {}, 0o755, Buffer.alloc(0));
      else if (this.entries[existing].kind !== "directory") throw new CpioError(`Cannot add ${path} to the initramfs: ${dir} is a ${this.entries[existing].kind}, not a directory.`);
    }
  }
}

function attributes(path: string, o: CpioEntryOptions, defaultMode: number): { mode: number; uid: number; gid: number; mtime: number } {
  const mode = o.mode ?? defaultMode;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new CpioError(`Cannot add ${path} to the initramfs: mode ${mode} is not a permission mode (0 to 0o7777).`);
  const uid = o.uid ?? 0;
  const gid = o.gid ?? 0;
  const mtime = o.mtime ?? 0;
  checkField(path, "uid", uid);
  checkField(path, "gid", gid);
  checkField(path, "mtime", mtime);
  return { mode, uid, gid, mtime };
}

function checkField(path: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) throw new CpioError(`Cannot add ${path} to the initramfs: its ${name} (${value}) does not fit a cpio header (0 to 2^32-1).`);
}

/** Archive paths are relative to the initramfs root: no leading "/" or "./", no "..", no empty parts. */
function normalise(path: string): string {
  const p = path.replace(/^(\.?\/)+/, "").replace(/\/+$/, "");
  const parts = p.split("/");
  if (!p || p.includes("\0") || parts.some((s) => s === "" || s === "." || s === "..")) {
    throw new CpioError(`"${path}" is not a path Hangar puts in an initramfs.`, 'Use a relative path such as "bin/busybox", without "." or ".." parts.');
  }
  return p;
}

function header(fields: number[]): Buffer {
  return Buffer.from(`070701${fields.map((n) => n.toString(16).toUpperCase().padStart(8, "0")).join("")}`, "latin1");
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, as gzip uses). zlib.crc32 exists only from Node 20.15/22.2. */
function crc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
