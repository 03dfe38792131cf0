import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { Duplex } from "node:stream";
import { MessageChannel, Worker } from "node:worker_threads";
import { HangarError } from "../util/errors";
import type { EmulatorBoot, FromWorker, StreamFrame, ToWorker } from "./emulator-protocol";
import { locateV86Runtime } from "./v86-runtime";

/**
 * Node flags for a process that runs emulators (the machine daemon, the
 * engine). --liftoff-only: v86 turns the guest's hot code into many small
 * wasm modules, and V8's optimizing tier compiled them again on other
 * threads; on baseline code alone a guest workload measured 30-40% less CPU
 * (sha256 and gzip in the guest: 5.8 -> 3.7 core-seconds, same time; up
 * 2.0 -> 1.8 s; an idle machine 0.17 -> 0.10 of a core), a hot shell loop
 * about 10% slower once warm.
 */
export const EMULATOR_PROCESS_FLAGS: readonly string[] = ["--liftoff-only"];

/** Starts the worker script: bundled beside the extension/CLI, or (tests, benchmarks) the TypeScript source through tsx. */
function startWorker(): Worker {
  const bundled = path.join(__dirname, "emulator-worker.js");
  if (existsSync(bundled)) return new Worker(bundled);
  // Node 20 workers refuse a .ts entry even with --import tsx; register tsx inside the worker instead.
  const source = path.join(__dirname, "emulator-worker.ts");
  return new Worker(`require("tsx/cjs"); require(${JSON.stringify(source)});`, { eval: true });
}

export interface EmulatorEvents {
  serial: [text: string];
  /** An IPv4 packet the guest sent to one of its private networks. */
  "ip-out": [packet: Uint8Array];
  /** The watch helper holds every synced folder (guest-watch-relay.ts). */
  "watch-synced": [];
  /** The watch helper holds every folder of a folder watched with watchFolder. */
  "watch-ready": [watchId: string];
  exit: [error?: Error];
}

/**
 * A running guest, seen from the main thread. The emulator itself runs in a
 * worker; this object forwards control messages and turns guest TCP ports into
 * Node streams (for ssh2) over MessagePorts.
 */
export class Emulator extends EventEmitter<EmulatorEvents> {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: FromWorker): void; reject(e: Error): void }>();
  private readonly tcpStreams = new Map<number, Duplex>();
  private exited = false;

  private constructor(private readonly worker: Worker) {
    super();
    worker.on("message", (msg: FromWorker) => {
      if (msg.type === "serial") this.emit("serial", msg.text);
      else if (msg.type === "ip-out") this.emit("ip-out", msg.packet);
      else if (msg.type === "watch-synced") this.emit("watch-synced");
      else if (msg.type === "watch-ready") this.emit("watch-ready", msg.watchId);
      else if (msg.type === "tcp-error") this.tcpStreams.get(msg.id)?.destroy(new HangarError(msg.message));
      else if ("id" in msg && msg.id !== undefined) {
        const w = this.waiting.get(msg.id);
        if (!w) return;
        this.waiting.delete(msg.id);
        if (msg.type === "failed") w.reject(new HangarError(msg.message));
        else w.resolve(msg);
      }
    });
    const onExit = (err?: Error): void => {
      if (this.exited) return;
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(err ?? new HangarError("The emulator stopped."));
      this.waiting.clear();
      this.emit("exit", err);
    };
    worker.on("error", (err) => onExit(err));
    worker.on("exit", () => onExit());
  }

  /** Starts the worker and boots (or restores) the guest; resolves when v86 is running. */
  static start(boot: Omit<EmulatorBoot, "wasmFile">, timeoutMs = 60_000): Promise<Emulator> {
    const runtime = locateV86Runtime();
    const worker = startWorker();
    const emulator = new Emulator(worker);
    return new Promise<Emulator>((resolve, reject) => {
      const timer = setTimeout(() => {
        void emulator.stop();
        reject(new HangarError(`The emulator did not start within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      const onMessage = (msg: FromWorker): void => {
        if (msg.type === "ready") {
          clearTimeout(timer);
          worker.off("message", onMessage);
          resolve(emulator);
        } else if (msg.type === "failed" && msg.id === undefined) {
          clearTimeout(timer);
          worker.off("message", onMessage);
          void emulator.stop();
          reject(new HangarError(`The emulator could not start: ${msg.message}`));
        }
      };
      worker.on("message", onMessage);
      emulator.once("exit", (err) => {
        clearTimeout(timer);
        reject(new HangarError(`The emulator stopped while starting${err ? `: ${err.message}` : "."}`));
      });
      emulator.post({ type: "boot", boot: { ...boot, wasmFile: runtime.wasmFile }, moduleFile: runtime.moduleFile });
    });
  }

  private post(msg: ToWorker, transfer?: Parameters<Worker["postMessage"]>[1]): void {
    this.worker.postMessage(msg, transfer);
  }

  private request(build: (id: number) => ToWorker, transfer?: Parameters<Worker["postMessage"]>[1]): Promise<FromWorker> {
    if (this.exited) return Promise.reject(new HangarError("The emulator is not running."));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post(build(id), transfer);
    });
  }

  /** Types text on the guest's serial console (boot diagnostics, rescue). */
  serial(text: string): void {
    this.post({ type: "serial", text });
  }

  /** Tells the watch relay its guest helper is listening. */
  watchHelperStarted(): void {
    if (!this.exited) this.post({ type: "watch-helper-started" });
  }

  /** Replays host changes under a folder inside a share to the guest's inotify until unwatchFolder(id) (guest-watch-relay.ts). */
  watchFolder(watchId: string, share: string, inShare: string, guestPath: string, exclude: string[]): void {
    if (!this.exited) this.post({ type: "watch-add", watchId, share, inShare, guestPath, exclude });
  }

  unwatchFolder(watchId: string): void {
    if (!this.exited) this.post({ type: "watch-remove", watchId });
  }

  /** Puts an IPv4 packet from a private network on the guest's wire. */
  deliverIp(packet: Uint8Array): void {
    if (!this.exited) this.post({ type: "ip-in", packet });
  }

  /** Saves the guest's whole state to `file` (written atomically by the worker); returns its size on disk. */
  async save(file: string, compress: boolean, disk: { copyTo?: string; resume?: boolean } = {}): Promise<number> {
    const reply = await this.request((id) => ({ type: "save", id, file, compress, diskCopy: disk.copyTo, resume: disk.resume }));
    return reply.type === "saved" ? reply.bytes : 0;
  }

  /** A duplex byte stream to a TCP port of the guest, through the emulator's own network stack. */
  connect(guestPort: number): Duplex {
    const { port1, port2 } = new MessageChannel();
    const id = this.nextId++;
    let connected = false;
    const pending: Buffer[] = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        if (connected) port1.postMessage({ type: "data", data: new Uint8Array(chunk) } satisfies StreamFrame);
        else pending.push(chunk);
        callback();
      },
      final(callback) {
        port1.postMessage({ type: "end" } satisfies StreamFrame);
        callback();
      },
      destroy: (err, callback) => {
        this.tcpStreams.delete(id);
        port1.close();
        callback(err);
      },
    });
    port1.on("message", (f: StreamFrame) => {
      if (f.type === "connect") {
        connected = true;
        for (const chunk of pending.splice(0)) port1.postMessage({ type: "data", data: new Uint8Array(chunk) } satisfies StreamFrame);
      } else if (f.type === "data") stream.push(Buffer.from(f.data));
      else if (f.type === "end") stream.push(null);
    });
    port1.on("close", () => stream.push(null));
    this.tcpStreams.set(id, stream);
    // No reply on success: bytes flow on port1; a failure comes back as tcp-error.
    this.post({ type: "tcp", id, port: guestPort, channel: port2 }, [port2]);
    return stream;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.request((id) => ({ type: "stop", id })).catch(() => undefined);
    await this.worker.terminate();
  }
}
