import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { CancelledError, HangarError } from "../util/errors";
import { ensureHangarHome } from "../util/hangar-home";
import type { DaemonReply, DaemonRequest } from "./daemon-protocol";
import { daemonSocketPath } from "./machine-daemon";
import { EMULATOR_PROCESS_FLAGS } from "../emulator/emulator-host";

type Method = DaemonRequest["method"];
type Params<M extends Method> = Extract<DaemonRequest, { method: M }>["params"];

/** Talks to the machine daemon of a HANGAR_HOME, starting it when none runs. */
export class DaemonClient {
  private nextId = 1;

  private constructor(private readonly socket: net.Socket) {}

  static async connect(hangarHome: string, options: { start?: boolean; daemonScript?: string } = {}): Promise<DaemonClient> {
    // Before talking to whatever listens there: a home another user controls could hold their daemon.
    ensureHangarHome(hangarHome);
    const socketPath = daemonSocketPath(hangarHome);
    try {
      return new DaemonClient(await open(socketPath));
    } catch (err) {
      if (options.start === false) throw new HangarError(`No Hangar machine daemon is running for ${hangarHome} (${(err as Error).message}).`);
    }
    startDaemon(hangarHome, options.daemonScript);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        return new DaemonClient(await open(socketPath));
      } catch (err) {
        if (Date.now() > deadline) throw new HangarError(`The Hangar machine daemon did not start (${(err as Error).message}).`, `See ${path.join(hangarHome, "hangard.log")}.`);
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  }

  /**
   * A request; `onProgress` sees progress replies, `onConsole` a console
   * stream's text. Aborting `signal` asks the daemon to cancel it: the
   * operation stops at its next safe point and rejects with a CancelledError
   * that says what state it left (or completes, when it was past that point).
   */
  call<M extends Method>(method: M, params: Params<M>, onProgress?: (fraction: number, message: string) => void, onConsole?: (text: string) => void, signal?: AbortSignal): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const cancel = (): void => {
        if (!this.socket.writable) return;
        this.socket.write(JSON.stringify({ id: this.nextId++, method: "cancel", params: { request: id } }) + "\n");
      };
      let buffer = "";
      const onData = (chunk: Buffer): void => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const reply = JSON.parse(buffer.slice(0, nl)) as DaemonReply;
          buffer = buffer.slice(nl + 1);
          if (reply.id !== id) continue;
          if ("progress" in reply) onProgress?.(reply.progress.fraction, reply.progress.message);
          else if ("console" in reply) onConsole?.(reply.console);
          else {
            this.socket.off("data", onData);
            this.socket.off("close", onClose);
            signal?.removeEventListener("abort", cancel);
            if ("error" in reply) reject(reply.cancelled ? new CancelledError(reply.error) : new HangarError(reply.error));
            else resolve(reply.result);
          }
        }
      };
      const onClose = (): void => reject(new HangarError("The Hangar machine daemon closed the connection (did it crash? see hangard.log)."));
      this.socket.on("data", onData);
      this.socket.once("close", onClose);
      this.socket.write(JSON.stringify({ id, method, params }) + "\n");
      if (signal?.aborted) cancel();
      else signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  close(): void {
    this.socket.end();
  }
}

function open(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

function startDaemon(hangarHome: string, script?: string): void {
  const bundled = path.join(__dirname, "daemon.js");
  const entry = script ?? (existsSync(bundled) ? bundled : path.join(__dirname, "..", "..", "cli", "daemon.ts"));
  const execArgv = [...EMULATOR_PROCESS_FLAGS, ...(entry.endsWith(".ts") ? ["--import", "tsx"] : [])];
  const child = spawn(process.execPath, [...execArgv, entry, hangarHome], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
  });
  child.unref();
}
