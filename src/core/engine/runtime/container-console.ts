import type { Readable } from "node:stream";
import type { Command, MachineSession } from "../../machines/machine-session";

/** A terminal size in character cells. */
export interface ConsoleSize {
  rows: number;
  cols: number;
}

/** The process's side of an interactive container or exec: its stdin, its terminal, its output. */
export interface ConsoleIo {
  /** The process's stdin; its end is the process's end of input. Without it the process reads nothing. */
  stdin?: Readable;
  /** A terminal of this size instead of pipes: stdout and stderr then arrive together, as stdout. */
  tty?: ConsoleSize;
  onStdout?(data: Buffer): void;
  onStderr?(data: Buffer): void;
  /** The process exists; `detail` is what the script printed after the marker on its line. */
  onStarted?(detail: string): void;
  /** From now until the process ends, its terminal can be resized. */
  onResizable?(resize: (size: ConsoleSize) => void): void;
}

/**
 * Runs an engine script on its own SSH channel of the engine machine's
 * session — binary-safe both ways, with the process's stdin fed from
 * `io.stdin` and, with `io.tty`, a pty dropbear allocates (the ssh2 pty
 * request; a resize is the channel's window-change). The script prints
 * a line starting with `marker` when the process exists (on stderr; with a
 * pty stderr is the terminal, so it then arrives in stdout, "\r\n"-ended);
 * that line is not the process's output and is taken out.
 * Resolves with the exit status (128 + signal number when a signal ended
 * the script, as shells report it).
 */
export async function runOnChannel(session: MachineSession, script: Command, marker: string, io: ConsoleIo, retryRefused = false): Promise<number> {
  const ch = await session.exec(script, { retryRefused, ...(io.tty ? { pty: { rows: io.tty.rows, cols: io.tty.cols, height: 0, width: 0, term: "xterm" } } : {}) });
  let started = false;
  const found = (detail: string): void => {
    started = true;
    io.onStarted?.(detail);
    if (io.tty) io.onResizable?.((size) => ch.setWindow(size.rows, size.cols, 0, 0));
  };
  const out = new MarkerFilter(marker, io.tty ? found : () => undefined, (d) => io.onStdout?.(d), !io.tty);
  const err = new MarkerFilter(marker, io.tty ? () => undefined : found, (d) => io.onStderr?.(d), !!io.tty);
  return new Promise((resolve) => {
    let code = -1;
    ch.on("data", (d: Buffer) => out.push(d));
    ch.stderr.on("data", (d: Buffer) => err.push(d));
    ch.on("exit", (c: number | null, signal?: string) => (code = c ?? 128 + (SIGNALS[signal ?? ""] ?? 9)));
    ch.on("error", () => undefined);
    ch.on("close", () => {
      out.flush();
      err.flush();
      if (!started) io.onStarted?.("");
      io.stdin?.unpipe(ch);
      resolve(code < 0 ? 137 : code);
    });
    if (io.stdin) io.stdin.pipe(ch);
    else ch.end();
  });
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ABRT: 6, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15 };

/**
 * Holds a stream's bytes back until the marker line shows up (only the
 * engine script and a terminal's echo write before it), drops that line,
 * then passes everything through. A stream that can never carry the marker (`passThrough`) is not
 * held at all.
 */
class MarkerFilter {
  private pending: Buffer | undefined = Buffer.alloc(0);

  constructor(
    private readonly marker: string,
    private readonly onFound: (detail: string) => void,
    private readonly forward: (d: Buffer) => void,
    passThrough: boolean,
  ) {
    if (passThrough) this.pending = undefined;
  }

  push(data: Buffer): void {
    if (!this.pending) return this.forward(data);
    const all = Buffer.concat([this.pending, data]);
    const at = all.indexOf(this.marker);
    const eol = at < 0 ? -1 : all.indexOf(0x0a, at);
    if (eol < 0) {
      this.pending = all;
      return;
    }
    const end = eol + 1;
    this.pending = undefined;
    this.onFound(
      all
        .subarray(at + this.marker.length, eol)
        .toString()
        .trim(),
    );
    const rest = Buffer.concat([all.subarray(0, at), all.subarray(end)]);
    if (rest.length) this.forward(rest);
  }

  flush(): void {
    const left = this.pending;
    this.pending = undefined;
    if (left?.length) this.forward(left);
  }
}
