import { closeSync, ftruncateSync, fsyncSync, openSync, writeSync } from "node:fs";
import { Writable } from "node:stream";

/** Blocks of zeros this long (and aligned) are skipped, left as holes. */
const BLOCK = 4096;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** Whether `data` is all zeros (compared as memory, not byte by byte in JavaScript: disk images are gigabytes). */
export function isZeros(data: Uint8Array): boolean {
  for (let at = 0; at < data.length; at += ZERO_BLOCK.length) {
    const piece = data.subarray(at, Math.min(data.length, at + ZERO_BLOCK.length));
    if (!Buffer.from(piece.buffer, piece.byteOffset, piece.length).equals(ZERO_BLOCK.subarray(0, piece.length))) return false;
  }
  return true;
}

/**
 * A write stream that leaves runs of zeros as holes: a disk image of
 * gigabytes that holds megabytes (a box's disk.img) takes megabytes when
 * unpacked. The file is cut to its full length at the end, fsynced.
 */
export function sparseWriteStream(file: string, mode = 0o644): Writable {
  const fd = openSync(file, "w", mode);
  let position = 0;
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  const zeros = (b: Buffer, from: number, to: number): boolean => b.subarray(from, to).equals(ZERO_BLOCK.subarray(0, to - from));
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      try {
        let at = 0;
        while (at < chunk.length) {
          // Up to the next block boundary of the file, so holes stay aligned.
          const end = Math.min(chunk.length, at + (BLOCK - ((position + at) % BLOCK)));
          if (!zeros(chunk, at, end)) {
            let written = 0;
            while (written < end - at) written += writeSync(fd, chunk, at + written, end - at - written, position + at + written);
          }
          at = end;
        }
        position += chunk.length;
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      try {
        ftruncateSync(fd, position);
        fsyncSync(fd);
        close();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    destroy(err, callback) {
      try {
        close();
      } catch {
        // nothing more to release
      }
      callback(err);
    },
  });
}
