/**
 * The guest's VGA text screen rebuilt from v86's `screen-put-char` events.
 * Under Node v86 has no screen adapter, so this is how the host reads what
 * firmware and early boot print (boot diagnostics, tests).
 */
export interface ScreenEvents {
  add_listener(event: "screen-put-char", listener: (data: [number, number, number]) => void): void;
  remove_listener(event: "screen-put-char", listener: (data: [number, number, number]) => void): void;
}

export class TextScreen {
  private readonly rows: string[][] = [];
  private waiters: Array<() => void> = [];
  private wakeScheduled = false;
  private readonly onChar = ([row, col, chr]: [number, number, number]): void => {
    // NUL is how VGA text memory says "blank".
    (this.rows[row] ??= [])[col] = chr === 0 ? " " : String.fromCharCode(chr);
    // Characters arrive one event each, thousands per screen: match waiters
    // once per burst, not once per character, or matching starves the guest.
    if (this.waiters.length && !this.wakeScheduled) {
      this.wakeScheduled = true;
      setTimeout(() => this.wake(), 20);
    }
  };

  private wake(): void {
    this.wakeScheduled = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const check of waiters) check();
  }

  constructor(private readonly source: ScreenEvents) {
    source.add_listener("screen-put-char", this.onChar);
  }

  /** The screen as lines, trailing blanks trimmed. */
  text(): string {
    const lines = Array.from(this.rows, (row) =>
      Array.from(row ?? [], (c) => c ?? " ")
        .join("")
        .trimEnd(),
    );
    while (lines.length && !lines[lines.length - 1]) lines.pop();
    return lines.join("\n");
  }

  /** Resolves when `pattern` appears on screen; rejects with the screen's text after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`Timed out after ${timeoutMs} ms waiting for ${pattern} on the guest screen. Screen:\n${this.text()}`)), timeoutMs);
      const onAbort = (): void => finish(new Error("Cancelled."));
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const check = (): void => {
        if (pattern.test(this.text())) finish();
        else this.waiters.push(check);
      };
      check();
    });
  }

  dispose(): void {
    this.source.remove_listener("screen-put-char", this.onChar);
    this.waiters = [];
  }
}
