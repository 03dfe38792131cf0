/**
 * Many readers or one writer, first come first served: a waiting writer
 * holds back readers that arrive after it, so a stream of reads (long
 * `docker save`s) cannot starve a write.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: Array<{ write: boolean; grant: () => void }> = [];

  read<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(false, fn);
  }

  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(true, fn);
  }

  private async run<T>(write: boolean, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((grant) => {
      this.waiting.push({ write, grant });
      this.pump();
    });
    try {
      return await fn();
    } finally {
      if (write) this.writing = false;
      else this.readers--;
      this.pump();
    }
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.writing) {
      const next = this.waiting[0];
      if (next.write && this.readers > 0) return;
      this.waiting.shift();
      if (next.write) this.writing = true;
      else this.readers++;
      next.grant();
    }
  }
}
