import type * as http from "node:http";
import { PassThrough, type Duplex } from "node:stream";

/**
 * A hijacked connection (attach, exec start): the client sent its request
 * with `Upgrade: tcp` and, after the answer, the connection carries the
 * process's stdin one way and its output the other. The request's own body
 * (exec start sends a small JSON one) arrives first on the same bytes:
 * Node hands over whatever it read past the headers as `head`, so
 * Content-Length bytes are skipped before stdin begins. The client's
 * half-close ends `stdin`.
 */
export class HijackedStream {
  /** What the client sends after the request body. */
  readonly stdin = new PassThrough();

  constructor(
    req: http.IncomingMessage,
    readonly socket: Duplex,
    head: Buffer,
  ) {
    let skip = Number(req.headers["content-length"] ?? 0) || 0;
    const take = (d: Buffer): void => {
      if (skip > 0) {
        const n = Math.min(skip, d.length);
        skip -= n;
        d = d.subarray(n);
      }
      if (d.length) this.stdin.write(d);
    };
    if (head.length) take(head);
    socket.on("data", take);
    socket.on("end", () => this.stdin.end());
    socket.on("close", () => this.stdin.end());
  }

  /** Answers the upgrade: from here on the connection is the stream (raw for a TTY, else Docker's multiplexed framing). */
  begin(tty: boolean): void {
    this.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.${tty ? "raw-stream" : "multiplexed-stream"}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  }

  write(data: Buffer): void {
    if (!this.socket.writableEnded && !this.socket.destroyed) this.socket.write(data);
  }

  end(): void {
    if (!this.socket.writableEnded && !this.socket.destroyed) this.socket.end();
  }
}
