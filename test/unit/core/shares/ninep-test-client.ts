// A tiny 9P2000.L client for tests: the message bytes the Linux client sends,
// encoded with the server's own wire codec, answered by a HostShareServer.
import assert from "node:assert/strict";
import type { HostShareServer } from "../../../../src/core/shares/host-share-server";
import { RLERROR, T, WireReader, WireWriter } from "../../../../src/core/shares/ninep-wire";

export const O_RDONLY = 0,
  O_WRONLY = 1,
  O_RDWR = 2,
  O_DIRECTORY = 0o200000;
export const SET_MODE = 0x1,
  SET_SIZE = 0x8;

export class NinePClient {
  private tag = 1;

  constructor(public server: HostShareServer) {}

  /** Sends one T-message; returns a reader over the reply body, or throws "errno N". */
  call(type: number, build: (w: WireWriter) => void = () => undefined): WireReader {
    const w = WireWriter.message(type, this.tag++);
    build(w);
    const r = new WireReader(this.server.handle(w.finish()));
    r.u32();
    const rtype = r.u8();
    r.u16();
    if (rtype === RLERROR) throw new Error(`errno ${r.u32()}`);
    assert.equal(rtype, type + 1);
    return r;
  }

  attach(fid = 1): void {
    this.call(T.version, (w) => w.u32(512 * 1024).str("9P2000.L"));
    this.call(T.attach, (w) => w.u32(fid).u32(0xffffffff).str("root").str("").u32(0));
  }

  /** Number of qids walked. */
  walk(fid: number, newFid: number, names: string[]): number {
    return this.call(T.walk, (w) => {
      w.u32(fid).u32(newFid).u16(names.length);
      for (const n of names) w.str(n);
    }).u16();
  }

  lopen(fid: number, flags: number): void {
    this.call(T.lopen, (w) => w.u32(fid).u32(flags));
  }

  read(fid: number, offset = 0n, count = 65536): string {
    const r = this.call(T.read, (w) => w.u32(fid).u64(offset).u32(count));
    return Buffer.from(r.bytesOf(r.u32())).toString("utf8");
  }

  write(fid: number, text: string, offset = 0n): number {
    const data = Buffer.from(text);
    return this.call(T.write, (w) => w.u32(fid).u64(offset).u32(data.length).raw(data)).u32();
  }

  lcreate(dirFid: number, name: string, flags: number, mode: number): void {
    this.call(T.lcreate, (w) => w.u32(dirFid).str(name).u32(flags).u32(mode).u32(0));
  }

  mkdir(dirFid: number, name: string, mode: number): void {
    this.call(T.mkdir, (w) => w.u32(dirFid).str(name).u32(mode).u32(0));
  }

  mknod(dirFid: number, name: string, mode: number): void {
    this.call(T.mknod, (w) => w.u32(dirFid).str(name).u32(mode).u32(0).u32(0).u32(0));
  }

  symlink(dirFid: number, name: string, target: string): void {
    this.call(T.symlink, (w) => w.u32(dirFid).str(name).str(target).u32(0));
  }

  link(dirFid: number, targetFid: number, name: string): void {
    this.call(T.link, (w) => w.u32(dirFid).u32(targetFid).str(name));
  }

  renameat(oldDir: number, oldName: string, newDir: number, newName: string): void {
    this.call(T.renameat, (w) => w.u32(oldDir).str(oldName).u32(newDir).str(newName));
  }

  rename(fid: number, dirFid: number, name: string): void {
    this.call(T.rename, (w) => w.u32(fid).u32(dirFid).str(name));
  }

  unlinkat(dirFid: number, name: string, flags = 0): void {
    this.call(T.unlinkat, (w) => w.u32(dirFid).str(name).u32(flags));
  }

  /** setattr with only `valid`, mode and size meaningful. */
  setattr(fid: number, valid: number, mode: number, size = 0n): void {
    this.call(T.setattr, (w) => w.u32(fid).u32(valid).u32(mode).u32(0).u32(0).u64(size).u64(0n).u64(0n).u64(0n).u64(0n));
  }

  /** The mode and size getattr reports. */
  getattr(fid: number): { mode: number; size: bigint } {
    const r = this.call(T.getattr, (w) => w.u32(fid).u64(0x7ffn));
    r.u64();
    r.bytesOf(13);
    const mode = r.u32();
    r.u32();
    r.u32();
    r.u64();
    r.u64();
    return { mode, size: r.u64() };
  }

  listDir(fid: number): string[] {
    this.lopen(fid, O_DIRECTORY);
    const r = this.call(T.readdir, (w) => w.u32(fid).u64(0n).u32(65536));
    const data = new WireReader(r.bytesOf(r.u32()));
    const names: string[] = [];
    try {
      for (;;) {
        data.u8();
        data.u32();
        data.u64();
        data.u64();
        data.u8();
        names.push(data.str());
      }
    } catch {
      return names;
    }
  }
}

/** The Linux errno `fn` failed with, or 0 when it succeeded. */
export function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return Number(/errno (\d+)/.exec((err as Error).message)?.[1]);
  }
  return 0;
}
