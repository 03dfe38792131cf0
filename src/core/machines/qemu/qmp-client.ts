import * as net from "node:net";
import { HangarError } from "../../util/errors";

/**
 * QEMU's machine protocol (QMP) over its Unix socket: one JSON object per
 * line; after the greeting and qmp_capabilities, each command gets a reply
 * with its id; events come in between and are ignored here.
 */
export class QmpClient {
  private buffer = "";
  private nextId = 1;
  private readonly waiting = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (chunk) => this.onData(chunk.toString()));
    socket.on("close", () => {
      for (const w of this.waiting.values()) w.reject(new HangarError("QEMU closed its control socket."));
      this.waiting.clear();
    });
    socket.on("error", () => undefined);
  }

  /** Connects (QEMU makes the socket shortly after it starts: retried for `timeoutMs`) and enters command mode. */
  static async connect(socketPath: string, timeoutMs = 15_000): Promise<QmpClient> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(socketPath);
          s.once("connect", () => resolve(s));
          s.once("error", reject);
        });
        const client = new QmpClient(socket);
        await client.greeting();
        await client.execute("qmp_capabilities");
        return client;
      } catch (err) {
        if (Date.now() > until) throw new HangarError(`QEMU's control socket did not answer: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private greeted?: () => void;
  private greeting(): Promise<void> {
    return new Promise((resolve) => (this.greeted = resolve));
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: { QMP?: unknown; id?: string; return?: unknown; error?: { desc?: string } };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (msg.QMP) this.greeted?.();
      if (msg.id === undefined) continue;
      const w = this.waiting.get(msg.id);
      if (!w) continue;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new HangarError(`QEMU refused: ${msg.error.desc ?? JSON.stringify(msg.error)}`));
      else w.resolve(msg.return);
    }
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const id = `h${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + "\n");
    });
  }

  /** A human monitor command (savevm, hostfwd_add): its text output, where QEMU reports failures too. */
  hmp(command: string): Promise<string> {
    return this.execute<string>("human-monitor-command", { "command-line": command });
  }

  close(): void {
    this.socket.destroy();
  }
}
