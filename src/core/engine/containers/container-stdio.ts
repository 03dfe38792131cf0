import { PassThrough } from "node:stream";
import type { ConsoleSize } from "../runtime/container-console";

/**
 * The input side of containers made with `-i` (OpenStdin) and the terminal
 * of those made with `-t`: one stdin pipe per container run, which attached
 * clients write to (before or after the start: the docker CLI attaches
 * first) and the running process reads; and the size of its terminal.
 */
export class ContainerStdio {
  private readonly pipes = new Map<string, PassThrough>();
  private readonly resizers = new Map<string, (size: ConsoleSize) => void>();
  private readonly sizes = new Map<string, ConsoleSize>();

  /** The stdin pipe of the container's current (or next) run. */
  stdin(id: string): PassThrough {
    let pipe = this.pipes.get(id);
    if (!pipe) {
      pipe = new PassThrough();
      this.pipes.set(id, pipe);
    }
    return pipe;
  }

  /** The terminal size to start with: the last one asked for, else the one given at create (HostConfig.ConsoleSize), else 24x80. */
  initialSize(id: string, consoleSize?: unknown): ConsoleSize {
    const asked = this.sizes.get(id);
    if (asked) return asked;
    if (Array.isArray(consoleSize) && consoleSize.length === 2 && consoleSize.every((n) => Number.isInteger(n) && n > 0)) return { rows: consoleSize[0] as number, cols: consoleSize[1] as number };
    return { rows: 24, cols: 80 };
  }

  /** The running process's terminal follows `resize` from now on. */
  resizable(id: string, resize: (size: ConsoleSize) => void): void {
    this.resizers.set(id, resize);
    const size = this.sizes.get(id);
    if (size) resize(size);
  }

  resize(id: string, size: ConsoleSize): void {
    this.sizes.set(id, size);
    this.resizers.get(id)?.(size);
  }

  /** The run ended: the next start gets a fresh stdin. */
  ended(id: string): void {
    this.pipes.get(id)?.end();
    this.pipes.delete(id);
    this.resizers.delete(id);
  }

  removed(id: string): void {
    this.ended(id);
    this.sizes.delete(id);
  }
}
