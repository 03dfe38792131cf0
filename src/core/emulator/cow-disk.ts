import { closeSync, constants, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { copyFile, open, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { HangarError } from "../util/errors";
import { isZeros } from "../util/sparse-file";
import { HostDiskBuffer } from "./disk-buffer";

/** The unit copied from the base into the overlay on a first write. */
export const COW_CHUNK_BYTES = 64 * 1024;
const CHUNK = COW_CHUNK_BYTES;

/**
 * A guest disk made from a box's base image without copying it (v86's IDE
 * device takes it as a disk buffer, like FileDisk). The base is shared by
 * every machine of the box and never written: a chunk's first write copies
 * it into the machine's overlay, and reads come from the overlay where a
 * chunk was written, else from the base (zeros past the base's end).
 *
 * The overlay is two files: `<prefix>.data`, chunks appended in the order
 * first written (so it costs only what changed, and a snapshot copies only
 * that), and `<prefix>.map`, one uint32 little-endian entry per chunk of the
 * disk: 0 = in the base, n = at (n-1)*64 KiB in .data. A new chunk is
 * appended before its map entry is written, so the map never points at
 * bytes that were not written: a process killed between the two leaves an
 * unreferenced chunk, never a wrong one.
 *
 * As with FileDisk, a saved state holds only the disk's size (and chunk
 * count): the overlay files are the disk's part of the state.
 */
export class CowDisk extends HostDiskBuffer {
  readonly byteLength: number;
  private baseFd: number | undefined;
  private dataFd: number | undefined;
  private mapFd: number | undefined;
  private readonly baseSize: number;
  /** Chunk index → 1 + chunk index in .data, or 0 (read from the base). */
  private readonly map: Uint32Array;
  /** Chunks in .data, referenced or not: where the next one is appended. */
  private dataChunks: number;
  /** Chunks of the disk held in the overlay. */
  private overlayChunks = 0;

  /**
   * Opens the overlay at `overlayPrefix` (made when missing) over `baseFile`,
   * for a disk of `sizeBytes`: at least the base's size (a larger disk reads
   * zeros past the base), and at least the size the overlay was made for
   * (an overlay grows, never shrinks).
   */
  constructor(
    readonly baseFile: string,
    readonly overlayPrefix: string,
    sizeBytes: number,
  ) {
    super();
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 512 !== 0) throw new HangarError(`A disk's size must be a positive multiple of 512 bytes, not ${sizeBytes}.`);
    if (!existsSync(baseFile)) throw new HangarError(`The base disk image ${baseFile} is missing.`, "Add the box again to bring its disk back.");
    const files = CowDisk.files(overlayPrefix);
    try {
      this.baseFd = openSync(baseFile, constants.O_RDONLY);
      const base = fstatSync(this.baseFd);
      if (!base.isFile()) throw new HangarError(`The base disk image ${baseFile} is not a file.`);
      this.baseSize = base.size;
      if (sizeBytes < base.size)
        throw new HangarError(`A disk of ${sizeBytes} bytes is smaller than its box's disk ${baseFile} (${base.size} bytes).`, "Give the machine a disk at least as large as the box's.");
      // A .data without its .map is an overlay whose map was lost (a copy cut short): its chunks cannot be placed, so refuse rather than show the bare base.
      if (!existsSync(files.map) && existsSync(files.data) && statSync(files.data).size > 0)
        throw new HangarError(`The disk overlay ${files.data} has no ${path.basename(files.map)}; its written sectors cannot be read.`, "Restore the machine from a snapshot, or remove it.");
      this.dataFd = openSync(files.data, constants.O_RDWR | constants.O_CREAT, 0o644);
      this.mapFd = openSync(files.map, constants.O_RDWR | constants.O_CREAT, 0o644);

      const chunks = Math.ceil(sizeBytes / CHUNK);
      const recorded = Math.floor(fstatSync(this.mapFd).size / 4);
      if (recorded > chunks)
        throw new HangarError(
          `The disk overlay ${files.map} is for a disk of up to ${recorded * CHUNK} bytes; it cannot shrink to ${sizeBytes}.`,
          "Keep the disk's size, or make a new machine for a smaller disk.",
        );
      const stored = Buffer.alloc(recorded * 4);
      readFully(this.mapFd, stored, 0, stored.length, 0);
      if (recorded < chunks) ftruncateSync(this.mapFd, chunks * 4); // a larger disk: the new tail is in the base (entries 0)

      // An entry past .data's end is a torn append (the map reached the host's disk, the chunk did not): read the base there.
      // The fix is fsynced before anything is appended, else a later append would make the stale entry point at another chunk.
      const whole = Math.floor(fstatSync(this.dataFd).size / CHUNK);
      this.map = new Uint32Array(chunks);
      const zero = Buffer.alloc(4);
      let fixed = false;
      let used = 0;
      for (let i = 0; i < recorded; i++) {
        const n = stored.readUInt32LE(i * 4);
        if (n > whole) {
          writeFully(this.mapFd, zero, i * 4);
          fixed = true;
        } else if (n !== 0) {
          this.map[i] = n;
          this.overlayChunks++;
          used = Math.max(used, n);
        }
      }
      if (fixed || recorded < chunks) fsyncSync(this.mapFd);
      // Chunks past the last referenced one were appended but never mapped (or are torn): the next append reuses their place.
      this.dataChunks = used;
      if (fstatSync(this.dataFd).size !== used * CHUNK) ftruncateSync(this.dataFd, used * CHUNK);
      this.byteLength = sizeBytes;
    } catch (err) {
      this.closeFds();
      throw err;
    }
  }

  /** The host files of the overlay at `prefix`. */
  static files(prefix: string): { data: string; map: string } {
    return { data: `${prefix}.data`, map: `${prefix}.map` };
  }

  /**
   * Copies the overlay at `fromPrefix` to `toPrefix` (a snapshot, or a
   * snapshot back to its machine). Each file is written under a temporary
   * name, fsynced and renamed. Over an existing overlay, its map is removed
   * first: a copy cut short then leaves an overlay that refuses to open,
   * never new data read through the old map. The .map is copied before the
   * .data, so a copy taken while the disk is written references only chunks
   * the copied .data holds.
   */
  static async copyOverlay(fromPrefix: string, toPrefix: string): Promise<void> {
    const from = CowDisk.files(fromPrefix);
    const to = CowDisk.files(toPrefix);
    if (path.resolve(fromPrefix) === path.resolve(toPrefix)) throw new HangarError(`A disk overlay cannot be copied onto itself (${fromPrefix}).`);
    if (!existsSync(from.map)) throw new HangarError(`The disk overlay ${from.map} is missing; there is nothing to copy.`);
    const mapTmp = `${to.map}.tmp`;
    const dataTmp = `${to.data}.tmp`;
    try {
      await copyDurably(from.map, mapTmp);
      if (existsSync(from.data)) await copyDurably(from.data, dataTmp);
      else await (await open(dataTmp, "w")).close();
      await rm(to.map, { force: true });
      await syncDir(path.dirname(to.map));
      await rename(dataTmp, to.data);
      await rename(mapTmp, to.map);
      await syncDir(path.dirname(to.map));
    } finally {
      await rm(mapTmp, { force: true });
      await rm(dataTmp, { force: true });
    }
  }

  /** Removes the overlay at `prefix` (the disk reads as its base again); missing files are fine. */
  /**
   * What the guest sees (the base under the overlay at `prefix`), written to
   * `out` as one sparse image: zeros are left as holes. For a new box made
   * from a machine (box package), and for checking a machine's disk on the host.
   */
  static async flatten(baseFile: string, prefix: string, sizeBytes: number, out: string): Promise<void> {
    const disk = new CowDisk(baseFile, prefix, sizeBytes);
    const tmp = `${out}.tmp`;
    const fd = openSync(tmp, "w", 0o644);
    try {
      const piece = 4 * 1024 * 1024;
      for (let at = 0; at < sizeBytes; at += piece) {
        const data = disk.read(at, Math.min(piece, sizeBytes - at));
        for (let b = 0; b < data.length; b += 65536) {
          const block = data.subarray(b, b + 65536);
          if (!isZeros(block)) writeSync(fd, block, 0, block.length, at + b);
        }
        if (at % (256 * piece) === 0) await new Promise((r) => setImmediate(r)); // let the event loop breathe
      }
      ftruncateSync(fd, sizeBytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      disk.close();
    }
    await rename(tmp, out);
  }

  static async removeOverlay(prefix: string): Promise<void> {
    const files = CowDisk.files(prefix);
    // .data first: cut short, what is left is a map whose entries are all past .data's end, which opens as the bare base.
    await rm(files.data, { force: true });
    await rm(files.map, { force: true });
  }

  set(start: number, data: Uint8Array, done: () => void): void {
    this.check(start, data.length);
    const end = start + data.length;
    const dataFd = this.openFd(this.dataFd);
    const fresh: { index: number; bytes: Uint8Array }[] = [];
    for (let pos = start; pos < end; ) {
      const index = Math.floor(pos / CHUNK);
      const chunkStart = index * CHUNK;
      const segEnd = Math.min(end, chunkStart + CHUNK);
      const from = data.subarray(pos - start, segEnd - start);
      const entry = this.map[index];
      if (entry !== 0) writeFully(dataFd, from, (entry - 1) * CHUNK + (pos - chunkStart));
      else {
        // First write to this chunk: the whole chunk goes to the overlay, its base bytes around the written ones.
        const bytes = new Uint8Array(CHUNK);
        if (pos !== chunkStart || segEnd !== chunkStart + CHUNK) this.readBase(bytes, 0, CHUNK, chunkStart);
        bytes.set(from, pos - chunkStart);
        fresh.push({ index, bytes });
      }
      pos = segEnd;
    }
    if (fresh.length > 0) {
      // One append for the new chunks, then their map entries: the map never points at bytes not yet written.
      const appended = new Uint8Array(fresh.length * CHUNK);
      fresh.forEach((c, i) => appended.set(c.bytes, i * CHUNK));
      writeFully(dataFd, appended, this.dataChunks * CHUNK);
      const first = this.dataChunks;
      this.dataChunks += fresh.length;
      const mapFd = this.openFd(this.mapFd);
      const entry = Buffer.alloc(4);
      fresh.forEach((c, i) => {
        entry.writeUInt32LE(first + i + 1);
        writeFully(mapFd, entry, c.index * 4);
        this.map[c.index] = first + i + 1;
        this.overlayChunks++;
      });
    }
    done();
  }

  /** The disk's part of a saved state: its size and chunks in the overlay (the overlay files hold the sectors). */
  get_state(): unknown[] {
    return [this.byteLength, this.overlayChunks];
  }

  set_state(state: unknown[] | null | undefined): void {
    // A state saved without this disk (a box's booted state): the guest finds the disk when it scans for it.
    if (!state) return;
    if (state[0] !== this.byteLength)
      throw new HangarError(`The saved state's disk was ${String(state[0])} bytes; ${this.overlayPrefix} is ${this.byteLength}.`, "The disk overlay does not belong to this state.");
  }

  /** Flushes what was written to the host's disk, chunks before the map that points at them. */
  sync(): void {
    if (this.dataFd !== undefined) fsyncSync(this.dataFd);
    if (this.mapFd !== undefined) fsyncSync(this.mapFd);
  }

  close(): void {
    if (this.dataFd === undefined && this.mapFd === undefined && this.baseFd === undefined) return;
    try {
      this.sync();
    } finally {
      this.closeFds();
    }
  }

  protected read(start: number, length: number): Uint8Array {
    this.check(start, length);
    const out = new Uint8Array(length);
    const end = start + length;
    for (let pos = start; pos < end; ) {
      const index = Math.floor(pos / CHUNK);
      const entry = this.map[index];
      let runEnd = Math.min(end, (index + 1) * CHUNK);
      if (entry === 0) {
        // Consecutive chunks in the base: one read.
        while (runEnd < end && this.map[runEnd / CHUNK] === 0) runEnd = Math.min(end, runEnd + CHUNK);
        this.readBase(out, pos - start, runEnd - pos, pos);
      } else {
        // Consecutive chunks that are also consecutive in .data (written in order): one read.
        let next = entry + 1;
        while (runEnd < end && this.map[runEnd / CHUNK] === next) {
          runEnd = Math.min(end, runEnd + CHUNK);
          next++;
        }
        readFully(this.openFd(this.dataFd), out, pos - start, runEnd - pos, (entry - 1) * CHUNK + (pos - index * CHUNK));
      }
      pos = runEnd;
    }
    return out;
  }

  /** Reads the base at `position`; past its end reads as zeros (`into` starts zeroed). */
  private readBase(into: Uint8Array, offset: number, length: number, position: number): void {
    const n = Math.max(0, Math.min(length, this.baseSize - position));
    if (n > 0) readFully(this.openFd(this.baseFd), into, offset, n, position);
  }

  private check(start: number, length: number): void {
    this.openFd(this.dataFd);
    if (start < 0 || length < 0 || start + length > this.byteLength) throw new HangarError(`A disk access at ${start}+${length} is past the end of ${this.overlayPrefix} (${this.byteLength} bytes).`);
  }

  private openFd(fd: number | undefined): number {
    if (fd === undefined) throw new HangarError(`The disk ${this.overlayPrefix} is closed.`);
    return fd;
  }

  private closeFds(): void {
    for (const fd of [this.baseFd, this.dataFd, this.mapFd]) if (fd !== undefined) closeSync(fd);
    this.baseFd = this.dataFd = this.mapFd = undefined;
  }
}

/** Reads until `length` bytes or the file's end (the rest stays as it was: zeros in a fresh buffer). */
function readFully(fd: number, into: Uint8Array, offset: number, length: number, position: number): void {
  let at = 0;
  while (at < length) {
    const n = readSync(fd, into, offset + at, length - at, position + at);
    if (n === 0) break;
    at += n;
  }
}

function writeFully(fd: number, data: Uint8Array, position: number): void {
  let at = 0;
  while (at < data.length) at += writeSync(fd, data, at, data.length - at, position + at);
}

async function copyDurably(from: string, to: string): Promise<void> {
  await copyFile(from, to); // may clone (reflink) where the file system can
  const handle = await open(to, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes renames in `dir` durable; not possible on Windows (a folder cannot be opened), where NTFS journals them. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
