/**
 * What v86's IDE device asks of a disk buffer (any object with these
 * methods), answered synchronously from host files: a subclass reads and
 * writes; the whole disk is never held in memory.
 */
export abstract class HostDiskBuffer {
  abstract readonly byteLength: number;
  onload: ((e: unknown) => void) | undefined;
  onprogress: ((e: unknown) => void) | undefined;

  load(): void {
    this.onload?.(Object.create(null));
  }

  get(start: number, length: number, done: (data: Uint8Array) => void): void {
    done(this.read(start, length));
  }

  get_and_cache(start: number, length: number, done: (data: Uint8Array) => void): void {
    done(this.read(start, length));
  }

  /** Synchronous read (v86 reads the partition table through it for the disk's geometry). */
  get_from_cache(start: number, length: number): Uint8Array {
    return this.read(start, length);
  }

  get_buffer(done: (buffer: ArrayBuffer | undefined) => void): void {
    done(undefined); // the whole disk in memory is what these classes avoid
  }

  abstract set(start: number, data: Uint8Array, done: () => void): void;
  protected abstract read(start: number, length: number): Uint8Array;
}
