import type * as http from "node:http";
import { errorBody } from "./api-errors";

/** A JSON response, as Docker writes them (one value, newline-terminated). */
export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** A response without a body (201 for tag, 204, …). */
export function sendEmpty(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { "Content-Length": 0 });
  res.end();
}

/** One line of Docker's JSON message stream (pull progress, load output). */
export interface JsonMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
}

/**
 * Docker's JSON message stream (pull, load, push, build): 200 and
 * application/json are sent with the first message, then one JSON object per
 * line. An error after that point can no longer change the status, so it
 * travels in the stream as {"errorDetail":{"message"},"error"} — clients
 * print it and fail. `started` says whether the status was sent, so a
 * handler can still answer an early error with a proper status code.
 */
export class JsonMessageStream {
  private begun = false;

  constructor(private readonly res: http.ServerResponse) {}

  get started(): boolean {
    return this.begun;
  }

  /** Sends the status line now (a client waiting for headers then sees the stream has begun). */
  start(): void {
    if (this.begun) return;
    this.begun = true;
    this.res.writeHead(200, { "Content-Type": "application/json" });
    this.res.flushHeaders();
  }

  write(message: JsonMessage): void {
    this.start();
    if (!this.res.writableEnded) this.res.write(`${JSON.stringify(message)}\n`);
  }

  error(err: unknown): void {
    this.start();
    const { message } = errorBody(err);
    if (!this.res.writableEnded) this.res.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
  }

  end(): void {
    this.start();
    if (!this.res.writableEnded) this.res.end();
  }
}
