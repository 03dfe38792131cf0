import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { EmbeddedBox } from "../boxes/embedded-box";
import { MachineRunner } from "../machines/machine-runner";
import type { RunningMachine } from "../machines/machine-provider";
import { QemuRunner } from "../machines/qemu/qemu-runner";
import { PrivateSwitch } from "../network/private-switch";
import { CancelledError, errorMessage, HangarError } from "../util/errors";
import { ensureHangarHome } from "../util/hangar-home";
import { listenPrivate } from "../util/private-socket";
import { RubyEvaluator } from "../vagrantfile/ruby-evaluator";
import type { DaemonReply, DaemonRequest, MachineInfo } from "./daemon-protocol";

/** "web (/path/to/project)" for a machine key "<Vagrantfile folder>#<name>". */
function machineName(key: string): string {
  const at = key.lastIndexOf("#");
  return at < 0 ? key : `'${key.slice(at + 1)}' of ${key.slice(0, at)}`;
}

export function daemonSocketPath(hangarHome: string): string {
  return process.platform === "win32" ? `\\\\.\\pipe\\hangar-${Buffer.from(hangarHome).toString("hex").slice(0, 40)}` : path.join(hangarHome, "hangard.sock");
}

/** Holds running machines and answers the protocol in daemon-protocol.ts. */
export class MachineDaemon {
  private readonly machines = new Map<string, { runner: RunningMachine; info: MachineInfo }>();
  private readonly starting = new Map<string, Promise<MachineInfo>>();
  /** Machines a halt or suspend is working on: a second one is refused rather than run twice. */
  private readonly stopping = new Set<string>();
  /** Started on the first evaluate request and kept: the next command's Vagrantfile evaluates without loading Ruby. */
  private ruby?: RubyEvaluator;
  /** Private networks span every machine of this home, whatever its project. */
  private readonly network = new PrivateSwitch();

  constructor(private readonly server: net.Server) {}

  /** Listens on the home's socket, 0600 whatever the umask: whoever can connect can start, stop and type into machines. */
  static async listen(hangarHome: string): Promise<MachineDaemon> {
    ensureHangarHome(hangarHome);
    const socket = daemonSocketPath(hangarHome);
    // A socket file left by a daemon that died: remove it, but only if nothing answers on it.
    if (process.platform !== "win32" && (await isStale(socket))) await fs.rm(socket, { force: true });
    const server = net.createServer();
    const daemon = new MachineDaemon(server);
    server.on("connection", (conn) => daemon.serve(conn));
    await listenPrivate(server, socket);
    return daemon;
  }

  private serve(conn: net.Socket): void {
    let buffer = "";
    // This connection's requests in flight, so a `cancel` can reach them.
    const inFlight = new Map<number, AbortController>();
    conn.on("data", (chunk) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const reply = (r: DaemonReply): void => void (conn.writable && conn.write(JSON.stringify(r) + "\n"));
        let req: DaemonRequest;
        try {
          req = JSON.parse(line) as DaemonRequest;
        } catch {
          reply({ id: -1, error: "The request is not JSON." });
          continue;
        }
        if (req.method === "console") {
          this.streamConsole(req.id, req.params.key, conn, reply);
          continue;
        }
        if (req.method === "cancel") {
          const target = inFlight.get(req.params.request);
          target?.abort();
          reply({ id: req.id, result: { cancelling: Boolean(target) } });
          continue;
        }
        const abort = new AbortController();
        inFlight.set(req.id, abort);
        this.handle(req, (fraction, message) => reply({ id: req.id, progress: { fraction, message } }), abort.signal)
          .then(
            (result) => reply({ id: req.id, result }),
            (err: unknown) => reply({ id: req.id, error: errorMessage(err), ...(err instanceof CancelledError ? { cancelled: true } : {}) }),
          )
          .finally(() => inFlight.delete(req.id));
      }
    });
    conn.on("error", () => undefined);
  }

  private async handle(req: DaemonRequest, progress: (f: number, m: string) => void, signal: AbortSignal): Promise<unknown> {
    switch (req.method) {
      case "evaluate":
        return (this.ruby ??= new RubyEvaluator()).evaluate(req.params.source, req.params.file, req.params.env);
      case "list":
        return [...this.machines.values()].map((m) => m.info);
      case "up": {
        const p = req.params;
        const running = this.machines.get(p.key);
        if (running) return running.info;
        const pending = this.starting.get(p.key);
        if (pending) return pending;
        const start = (async (): Promise<MachineInfo> => {
          const box = await EmbeddedBox.open(p.boxDir);
          if (p.provider === "qemu") {
            if (p.privateNetworks?.length)
              throw new HangarError("Private networks are not available on the qemu provider yet.", 'Remove config.vm.network "private_network" or use the embedded provider.');
            const runner = await QemuRunner.start({
              box,
              memoryMiB: p.memoryMiB,
              keyFile: p.keyFile,
              hostname: p.hostname,
              resumeFrom: p.resumeFrom,
              diskDir: p.diskDir ?? path.join(path.dirname(p.keyFile), "disk"),
              ...(p.rootDiskBytes ? { rootDiskBytes: p.rootDiskBytes } : {}),
              forwards: p.forwards,
              ...(p.bootTimeoutMs ? { bootTimeoutMs: p.bootTimeoutMs } : {}),
              onProgress: progress,
              signal,
              env: p.qemuPath ? { ...process.env, HANGAR_QEMU: p.qemuPath } : process.env,
            });
            const info: MachineInfo = { key: p.key, provider: "qemu", sshPort: runner.sshPort, ports: runner.ports.ports, addresses: [], startedAt: new Date().toISOString() };
            this.machines.set(p.key, { runner, info });
            runner.onExit(() => this.machines.delete(p.key));
            return info;
          }
          const privateAddresses = this.network.claim(p.key, p.privateNetworks ?? [], machineName);
          const runner = await MachineRunner.start({
            box,
            memoryMiB: p.memoryMiB,
            ...(p.bootTimeoutMs ? { bootTimeoutMs: p.bootTimeoutMs } : {}),
            keyFile: p.keyFile,
            hostname: p.hostname,
            resumeFrom: p.resumeFrom,
            forwards: p.forwards,
            syncedFolders: p.syncedFolders,
            // Vagrant machines' guests hear of host edits (the engine machine's shares are Docker's bind mounts).
            watchSyncedFolders: true,
            diskDir: p.diskDir,
            ...(p.rootDiskBytes ? { rootDiskBytes: p.rootDiskBytes } : {}),
            privateAddresses,
            onProgress: progress,
            signal,
          }).catch((err: unknown) => {
            this.network.release(p.key);
            throw err;
          });
          const info: MachineInfo = {
            key: p.key,
            provider: "embedded",
            sshPort: runner.sshPort,
            ports: runner.ports.ports,
            addresses: this.network.addresses(p.key),
            startedAt: new Date().toISOString(),
          };
          this.machines.set(p.key, { runner, info });
          this.network.connect(p.key, (packet) => runner.emulator.deliverIp(packet));
          runner.emulator.on("ip-out", (packet) => this.network.route(p.key, packet));
          runner.onExit(() => {
            this.machines.delete(p.key);
            this.network.release(p.key);
          });
          return info;
        })();
        this.starting.set(p.key, start);
        try {
          return await start;
        } finally {
          this.starting.delete(p.key);
        }
      }
      case "halt": {
        const key = req.params.key;
        return this.stoppingOne(key, async (m) => {
          progress(0.2, "Keeping the machine's files on its disk");
          // A root disk keeps the machine's files by itself, even through a forced halt (its journal makes it whole again).
          const persisted = m.runner.rootOnDisk || (req.params.persist ? await m.runner.persistDisk().catch(() => false) : false);
          // The safe point: up to here the machine only wrote its disk and runs on; from here the power goes whatever happens.
          if (signal.aborted) throw new CancelledError(`Halt cancelled: the machine is still running${persisted ? " (its files as of now are also kept on its disk)" : ""}.`);
          this.machines.delete(key);
          // A clean shutdown: sync the guest's file systems before the power goes.
          await m.runner.quiesce();
          await m.runner.stop();
          return { halted: key, persisted };
        });
      }
      case "console-input": {
        const m = this.machines.get(req.params.key);
        if (!m) throw new HangarError(`Machine ${req.params.key} is not running.`);
        m.runner.typeOnConsole(req.params.text);
        return { typed: req.params.text.length };
      }
      case "console":
        throw new HangarError("console is a stream");
      case "save": {
        const m = this.machines.get(req.params.key);
        if (!m) throw new HangarError(`Machine ${req.params.key} is not running.`);
        // A root disk's overlay is copied with the state (snapshots, box package); an uncompressed state is a box's booted state.
        return { bytes: await m.runner.snapshot(req.params.stateFile, req.params.compress ?? true) };
      }
      case "suspend": {
        const { key, stateFile } = req.params;
        return this.stoppingOne(key, async (m) => {
          progress(0.3, "Saving the machine's state");
          const bytes = await m.runner.save(stateFile);
          // The safe point: a cancelled suspend drops the state it saved and leaves the machine running.
          if (signal.aborted) {
            await fs.rm(stateFile, { force: true });
            throw new CancelledError("Suspend cancelled: the machine is still running.");
          }
          this.machines.delete(key);
          await m.runner.stop();
          return { bytes };
        });
      }
      default:
        throw new HangarError(`The machine daemon does not know '${(req as { method: string }).method}'; it may be an older Hangar's (stop it: it restarts on demand).`);
    }
  }

  private streamConsole(id: number, key: string, conn: net.Socket, reply: (r: DaemonReply) => void): void {
    const m = this.machines.get(key);
    if (!m) return reply({ id, error: `Machine ${key} is not running.` });
    const stop = m.runner.watchConsole((text) => reply({ id, console: text }));
    const end = (): void => {
      stop();
      m.runner.offExit(onExit);
    };
    const onExit = (): void => {
      end();
      reply({ id, result: { stopped: true } });
    };
    m.runner.onExit(onExit);
    conn.once("close", end);
  }

  /** Runs a halt or suspend of a running machine, one at a time per machine; `stop` removes it from the running ones once past its safe point. */
  private async stoppingOne<T>(key: string, stop: (m: { runner: RunningMachine; info: MachineInfo }) => Promise<T>): Promise<T> {
    const m = this.machines.get(key);
    if (!m) throw new HangarError(`Machine ${key} is not running.`);
    if (this.stopping.has(key)) throw new HangarError(`Machine ${key} is already being halted or suspended.`);
    this.stopping.add(key);
    try {
      return await stop(m);
    } finally {
      this.stopping.delete(key);
    }
  }

  machineCount(): number {
    return this.machines.size + this.starting.size;
  }

  async close(): Promise<void> {
    this.ruby?.dispose();
    for (const m of this.machines.values()) await m.runner.stop().catch(() => undefined);
    this.machines.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function isStale(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once("connect", () => {
      c.destroy();
      resolve(false);
    });
    c.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED" || err.code === "ENOENT" ? err.code === "ECONNREFUSED" : false));
  });
}
