/**
 * 9P2000.L wire format: little-endian integers, strings as a 16-bit length
 * plus UTF-8, every message framed as size[4] type[1] tag[2] body.
 * Message numbers are the Linux client's (include/net/9p/9p.h).
 */
export const T = {
  statfs: 8,
  lopen: 12,
  lcreate: 14,
  symlink: 16,
  mknod: 18,
  rename: 20,
  readlink: 22,
  getattr: 24,
  setattr: 26,
  xattrwalk: 30,
  xattrcreate: 32,
  readdir: 40,
  fsync: 50,
  lock: 52,
  getlock: 54,
  link: 70,
  mkdir: 72,
  renameat: 74,
  unlinkat: 76,
  version: 100,
  auth: 102,
  attach: 104,
  flush: 108,
  walk: 110,
  read: 116,
  write: 118,
  clunk: 120,
  remove: 122,
} as const;

/** An R-message is its T-message's number + 1; errors are Rlerror. */
export const RLERROR = 7;
export const HEADER_BYTES = 7;

export const QID_DIR = 0x80;
export const QID_SYMLINK = 0x02;
export const QID_FILE = 0x00;

export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

export class WireReader {
  private offset: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.bytes.byteLength) throw new RangeError("9P message is shorter than its fields");
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  str(): string {
    const n = this.u16();
    this.need(n);
    const s = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, n).toString("utf8");
    this.offset += n;
    return s;
  }

  bytesOf(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
}

/** Builds one message; `finish` writes the size field. */
export class WireWriter {
  private buf: Buffer;
  private length = 0;

  constructor(initial = 256) {
    this.buf = Buffer.alloc(initial);
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  get size(): number {
    return this.length;
  }

  u8(v: number): this {
    this.room(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
    return this;
  }

  u64(v: bigint | number): this {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.length);
    this.length += 8;
    return this;
  }

  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.u16(b.length).raw(b);
  }

  qid(q: Qid): this {
    return this.u8(q.type).u32(q.version).u64(q.path);
  }

  raw(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Starts a message: size placeholder, type, tag. */
  static message(type: number, tag: number, initial?: number): WireWriter {
    return new WireWriter(initial).u32(0).u8(type).u16(tag);
  }

  finish(): Uint8Array {
    this.buf.writeUInt32LE(this.length, 0);
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.length);
  }
}
