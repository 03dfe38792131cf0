import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { HangarError } from "../util/errors";
import { HostDiskBuffer } from "./disk-buffer";

/**
 * A guest disk whose sectors live in a host file, not in memory: v86's IDE
 * device reads and writes through it (v86 takes any object with get, set
 * and load as a disk buffer). Reads and writes go straight to the file, so
 * a disk of gigabytes costs no memory, and a saved state holds only the
 * disk's size: the file itself is the disk's part of the state, consistent
 * with it as long as nothing writes the file between save and restore.
 */
export class FileDisk extends HostDiskBuffer {
  readonly byteLength: number;
  private fd: number | undefined;

  /** Opens `file` (made sparse, `size` bytes, when missing or smaller). */
  constructor(
    readonly file: string,
    size: number,
  ) {
    super();
    if (!Number.isSafeInteger(size) || size <= 0 || size % 512 !== 0) throw new HangarError(`A disk's size must be a positive multiple of 512 bytes, not ${size}.`);
    this.fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o644);
    const have = fstatSync(this.fd).size;
    if (have < size) ftruncateSync(this.fd, size);
    this.byteLength = Math.max(have, size);
  }

  set(start: number, data: Uint8Array, done: () => void): void {
    this.check(start, data.length);
    let at = 0;
    while (at < data.length) at += writeSync(this.openFd(), data, at, data.length - at, start + at);
    done();
  }

  /** The disk's part of a saved state: its size only (the file holds the sectors). */
  get_state(): unknown[] {
    return [this.byteLength];
  }

  set_state(state: unknown[] | null | undefined): void {
    // A state saved without this disk (a box's booted state): the guest finds the disk when it scans for it.
    if (!state) return;
    if (state[0] !== this.byteLength)
      throw new HangarError(`The saved state's disk was ${String(state[0])} bytes; ${this.file} is ${this.byteLength}.`, "The disk file does not belong to this state.");
  }

  /** Flushes what was written to the host's disk (before a state is saved, so the two agree after a crash). */
  sync(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  protected read(start: number, length: number): Uint8Array {
    this.check(start, length);
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const n = readSync(this.openFd(), out, at, length - at, start + at);
      if (n === 0) break; // past the file's end reads as zeros (a sparse tail)
      at += n;
    }
    return out;
  }

  private check(start: number, length: number): void {
    if (start < 0 || length < 0 || start + length > this.byteLength) throw new HangarError(`A disk access at ${start}+${length} is past the end of ${this.file} (${this.byteLength} bytes).`);
  }

  private openFd(): number {
    if (this.fd === undefined) throw new HangarError(`The disk ${this.file} is closed.`);
    return this.fd;
  }
}
