import { BadParameterError } from "./api-errors";

/** Docker's default detach sequence, ctrl-p ctrl-q. */
const DEFAULT_KEYS = Buffer.from([0x10, 0x11]);

/**
 * Docker's detach keys (`--detach-keys`, the attach and exec `detachKeys`
 * parameter): comma-separated keys, each a single character or `ctrl-X`
 * (X one of a-z, @, [, \, ], ^, _). Empty means the default, ctrl-p,ctrl-q.
 */
export function parseDetachKeys(spec: string | null | undefined): Buffer {
  if (!spec) return DEFAULT_KEYS;
  return Buffer.from(
    spec.split(",").map((key) => {
      if (key.length === 1) return key.charCodeAt(0);
      const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
      if (!ctrl) throw new BadParameterError(`Invalid detach keys (${spec}) provided`, "Use keys such as ctrl-p,ctrl-q: single characters or ctrl-<a-z, @, [, \\, ], ^, _>.");
      const c = ctrl[1];
      return c >= "a" && c <= "z" ? c.charCodeAt(0) - 0x60 : { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 }[c]!;
    }),
  );
}

/**
 * Watches a client's stdin for the detach sequence, as Docker's daemon does:
 * bytes that may begin the sequence are held back until it is complete (the
 * client detaches; they are never delivered) or broken (they are delivered).
 */
export class DetachScanner {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  /** What to pass on from `chunk`, and whether the sequence completed (the rest of the chunk is dropped then). */
  scan(chunk: Buffer): { data: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { data: Buffer.from(out), detach: true };
        continue;
      }
      // A broken match: the held bytes were input after all.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]);
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { data: Buffer.from(out), detach: false };
  }
}
