import { spawn, execFile, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { EmbeddedBox } from "../../boxes/embedded-box";
import { PortRelays, type PortForward } from "../../ports/port-relays";
import { CancelledError, HangarError } from "../../util/errors";
import { exists } from "../../util/path-exists";
import type { Progress } from "../../util/progress";
import { shellQuote } from "../../util/shell-quote";
import { writeFileAtomic } from "../../util/atomic-file";
import type { RunningMachine } from "../machine-provider";
import { snapshotDisk } from "../machine-runner";
import { serialRun, serialSteps, waitForSerial, type SerialConsole } from "../serial-console";
import { authorizedKeyStep, clockStep, ensureMachineKey, hostKeysStep, hostnameStep, identityStepFailure } from "../guest-identity";
import { findQemu, QEMU_ACCEL_ENV, type QemuInstall } from "./qemu-binary";
import { QmpClient } from "./qmp-client";

const exec = promisify(execFile);

/**
 * A machine on QEMU: the same box (kernel, initramfs and disk image) the
 * embedded emulator boots, as a QEMU process the machine daemon owns. Its
 * disk is a qcow2 overlay on the box's image in the machine's disk folder;
 * SSH and forwarded ports go through QEMU's user-mode network (hostfwd on
 * loopback ports of its own, relayed from the ports the user asked for, so
 * collisions are handled as for embedded machines); the serial console is
 * QEMU's stdio; QMP on a private socket suspends (a migration stream to a
 * file), snapshots (the same, with a copy of the overlay taken while paused)
 * and stops it. Synced folders are copied in (rsync type) by ProjectMachines.
 */

export interface QemuRunOptions {
  box: EmbeddedBox;
  memoryMiB: number;
  keyFile: string;
  hostname?: string | null;
  /** A suspended machine's state (a migration stream), or a snapshot's (with its overlay beside it: snapshotDisk(file).qcow2). */
  resumeFrom?: string;
  diskDir: string;
  rootDiskBytes?: number;
  forwards?: PortForward[];
  bootTimeoutMs?: number;
  onProgress?: Progress;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** The hypervisor QEMU was asked to use failed to run the guest: TCG is tried next. */
class AcceleratorError extends HangarError {}

/** Beside a saved state: the accelerator it was saved under. */
export function accelFile(stateFile: string): string {
  return `${stateFile}.accel`;
}

async function readAccel(stateFile: string): Promise<QemuInstall["accel"] | undefined> {
  const text = (await fs.readFile(accelFile(stateFile), "utf8").catch(() => "")).trim();
  return text === "kvm" || text === "hvf" || text === "whpx" || text === "tcg" ? text : undefined;
}

/** The machine's overlay in its disk folder. */
export const QEMU_OVERLAY = "root.qcow2";
/** A snapshot's copy of the overlay, beside its state file. */
export function qemuSnapshotDisk(stateFile: string): string {
  return `${snapshotDisk(stateFile)}.qcow2`;
}

export class QemuRunner extends EventEmitter implements RunningMachine, SerialConsole {
  readonly provider = "qemu" as const;
  readonly rootOnDisk = true;
  private consoleTail = "";
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly qmp: QmpClient,
    readonly ports: PortRelays,
    private readonly controlDir: string,
    private readonly overlay: string,
    private readonly accel: QemuInstall["accel"],
  ) {
    super();
    this.on("serial", (text: string) => (this.consoleTail = (this.consoleTail + text).slice(-64 * 1024)));
    child.once("exit", () => {
      this.exited = true;
      this.emit("exit");
    });
  }

  get sshPort(): number {
    return this.ports.port("ssh")!;
  }

  static async start(o: QemuRunOptions): Promise<QemuRunner> {
    if (!o.box.disk)
      throw new HangarError(
        `The qemu provider runs boxes whose root file system is a disk (hangar/debian-bookworm); ${o.box.dir} keeps its root in memory.`,
        'Use config.vm.box = "hangar/debian-bookworm" with the qemu provider, or the embedded provider for this box.',
      );
    const found = await findQemu(o.env);
    // A saved state resumes under the accelerator (and so the CPU model) it was saved with.
    // A machine whose hypervisor failed it once boots with TCG from then on (its disk folder remembers).
    // (HANGAR_QEMU_ACCEL still chooses; a saved state's own accelerator wins over both.)
    const forced = Boolean((o.env ?? process.env)[QEMU_ACCEL_ENV]);
    const savedWith = o.resumeFrom ? await readAccel(o.resumeFrom) : forced ? undefined : await readAccel(path.join(o.diskDir, "machine"));
    const qemu = savedWith ? { ...found, accel: savedWith } : found;
    try {
      return await QemuRunner.launch(o, qemu);
    } catch (err) {
      // A hypervisor that is there but cannot run this guest (nested virtualisation often cannot): QEMU's own translator can.
      if (!(err instanceof AcceleratorError)) throw err;
      (o.onProgress ?? (() => undefined))(0.1, `${qemu.accel.toUpperCase()} could not run the machine (${err.message}); booting with TCG`);
      await fs.mkdir(o.diskDir, { recursive: true });
      await writeFileAtomic(accelFile(path.join(o.diskDir, "machine")), "tcg");
      return QemuRunner.launch(o, { ...qemu, accel: "tcg" });
    }
  }

  private static async launch(o: QemuRunOptions, qemu: QemuInstall): Promise<QemuRunner> {
    const progress = o.onProgress ?? (() => undefined);
    const forwards = [...(o.forwards ?? [])];
    if (!forwards.some((f) => f.id === "ssh")) forwards.unshift({ id: "ssh", guest: 22, host: 0, hostIp: "127.0.0.1", autoCorrect: false });
    const ports = await PortRelays.bind(forwards);
    const controlDir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-qemu-"));
    let child: ChildProcess | undefined;
    try {
      await fs.mkdir(o.diskDir, { recursive: true });
      const overlay = path.join(o.diskDir, QEMU_OVERLAY);
      await prepareOverlay(qemu, o, overlay);
      // QEMU's own forwards, on loopback ports nobody asked for: Hangar's relays on the asked-for ports lead to them.
      const guestPorts = [...new Set(forwards.map((f) => f.guest))];
      const inner = new Map<number, number>();
      for (const g of guestPorts) inner.set(g, await freeLoopbackPort());
      const qmpSocket = path.join(controlDir, "qmp.sock");
      const args = [
        ...["-accel", qemu.accel, ...(qemu.accel === "kvm" || qemu.accel === "hvf" ? ["-cpu", "host"] : []), "-m", String(o.memoryMiB), "-nodefaults", "-display", "none", "-no-reboot"],
        ...["-serial", "stdio", "-qmp", `unix:${qmpSocket},server=on,wait=off`],
        ...["-kernel", o.box.file("kernel"), "-initrd", o.box.file("initrd"), "-append", o.box.metadata.cmdline],
        ...["-drive", `file=${overlay},format=qcow2,if=ide,cache=writeback`],
        ...["-netdev", `user,id=n0,${[...inner].map(([g, h]) => `hostfwd=tcp:127.0.0.1:${h}-:${g}`).join(",")}`, "-device", "virtio-net-pci,netdev=n0"],
        ...(o.resumeFrom ? ["-incoming", "defer"] : []),
      ];
      progress(o.resumeFrom ? 0.2 : 0.1, o.resumeFrom ? "Resuming the saved machine state in QEMU" : `Booting the box in QEMU (${qemu.accel})`);
      child = spawn(qemu.binary, args, { stdio: ["pipe", "pipe", "pipe"] });
      const started = child;
      let stderr = "";
      let failAccel: ((err: Error) => void) | undefined;
      started.stderr!.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
        // QEMU pauses the guest on a hypervisor failure instead of exiting.
        const m = qemu.accel !== "tcg" ? /(KVM|HVF|WHPX)[^\n]*error[^\n]*/i.exec(stderr) : null;
        if (m) failAccel?.(new AcceleratorError(m[0].trim()));
      });
      const early = new Promise<never>((_, reject) => {
        failAccel = reject;
        started.once("exit", (code) =>
          reject(
            qemu.accel !== "tcg" && /kvm|hvf|whpx|accel/i.test(stderr)
              ? new AcceleratorError(stderr.trim().split("\n")[0] ?? `exit ${code}`)
              : new HangarError(`QEMU stopped as it started (exit ${code}): ${stderr.trim() || "no message"}`, "Run the same QEMU by hand to see more, or check hangar.qemu.path."),
          ),
        );
      });
      early.catch(() => undefined);
      const qmp = await Promise.race([QmpClient.connect(qmpSocket), early]);
      const runner = new QemuRunner(started, qmp, ports, controlDir, overlay, qemu.accel);
      let partial = "";
      started.stdout!.on("data", (d: Buffer) => {
        partial += d.toString("latin1");
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) runner.emit("serial", `${line}\n`);
      });
      const cancelled = (): CancelledError => new CancelledError("Cancelled while starting; the machine was not started.");
      try {
        if (o.resumeFrom) {
          await qmp.execute("migrate-incoming", { uri: `exec:cat ${shellQuote(o.resumeFrom)}` });
          await waitForMigration(qmp, "query-migrate", 300_000);
          await qmp.execute("cont");
        } else {
          const booted = waitForSerial(runner, o.box.metadata.readyMarker, o.bootTimeoutMs ?? 300_000);
          const aborted = new Promise<never>((_, reject) => o.signal?.addEventListener("abort", () => reject(cancelled()), { once: true }));
          aborted.catch(() => undefined);
          await Promise.race([booted, early, aborted]);
        }
        progress(0.7, "Installing the machine's key");
        await prepareGuest(runner, o);
        ports.attach((guestPort) => net.connect(inner.get(guestPort)!, "127.0.0.1"));
        // sshd reloads new host keys (a new machine) or comes up after a resume: up returns once it greets.
        await waitForSshBanner(inner.get(22)!, 30_000);
        progress(1, "Machine is running");
        return runner;
      } catch (err) {
        await runner.stop();
        throw err;
      }
    } catch (err) {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      await ports.close();
      await fs.rm(controlDir, { recursive: true, force: true });
      throw err;
    }
  }

  serial(text: string): void {
    if (!this.exited) this.child.stdin!.write(text);
  }

  typeOnConsole(text: string): void {
    this.serial(text);
  }

  watchConsole(onText: (text: string) => void): () => void {
    if (this.consoleTail) onText(this.consoleTail);
    this.on("serial", onText);
    return () => this.off("serial", onText);
  }

  onExit(listener: () => void): void {
    this.once("exit", listener);
  }

  offExit(listener: () => void): void {
    this.off("exit", listener);
  }

  /** The root is a disk: the machine's files stay in its overlay by themselves. */
  async persistDisk(): Promise<boolean> {
    return false;
  }

  async quiesce(): Promise<void> {
    await serialRun(this, "sync; mount -o remount,ro /; sync", 10_000).catch(() => undefined);
  }

  /** Suspend: the guest paused and its whole state streamed to `file` (written beside it first, then renamed). */
  async save(file: string): Promise<number> {
    await this.qmp.execute("stop");
    await this.migrateTo(file);
    return (await fs.stat(file)).size;
  }

  /** A snapshot: state and overlay at one paused instant, then the guest runs on. */
  async snapshot(file: string): Promise<number> {
    await this.qmp.execute("stop");
    try {
      await this.migrateTo(file);
      const disk = qemuSnapshotDisk(file);
      await fs.copyFile(this.overlay, `${disk}.tmp`);
      await fs.rename(`${disk}.tmp`, disk);
    } finally {
      await this.qmp.execute("cont");
    }
    return (await fs.stat(file)).size;
  }

  private async migrateTo(file: string): Promise<void> {
    const tmp = `${file}.tmp`;
    await this.qmp.execute("migrate", { uri: `exec:cat > ${shellQuote(tmp)}` });
    await waitForMigration(this.qmp, "query-migrate", 600_000);
    await writeFileAtomic(accelFile(file), this.accel);
    await fs.rename(tmp, file);
  }

  async stop(): Promise<void> {
    await this.ports.close();
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      await this.qmp.execute("quit").catch(() => undefined);
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    }
    this.qmp.close();
    await fs.rm(this.controlDir, { recursive: true, force: true });
  }
}

/** The machine's overlay: kept across halts; made on the box's image (sized by config.vm.disk) when missing; a snapshot's copy when resuming one. */
async function prepareOverlay(qemu: QemuInstall, o: QemuRunOptions, overlay: string): Promise<void> {
  const fromSnapshot = o.resumeFrom ? qemuSnapshotDisk(o.resumeFrom) : undefined;
  if (fromSnapshot && (await exists(fromSnapshot))) {
    await fs.copyFile(fromSnapshot, `${overlay}.tmp`);
    await fs.rename(`${overlay}.tmp`, overlay);
    return;
  }
  if (await exists(overlay)) return;
  const size = o.rootDiskBytes ?? o.box.disk!.sizeBytes;
  await exec(qemu.img, ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", o.box.disk!.file, `${overlay}.tmp`, String(size)]);
  await fs.rename(`${overlay}.tmp`, overlay);
}

/** Until the migration completes (or fails, which is an error). */
async function waitForMigration(qmp: QmpClient, query: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const info = await qmp.execute<{ status?: string; "error-desc"?: string }>(query);
    if (info.status === "completed") return;
    if (info.status === "failed" || info.status === "cancelled") throw new HangarError(`QEMU's state transfer ${info.status}: ${info["error-desc"] ?? "no reason given"}.`);
    if (Date.now() > until) throw new HangarError(`QEMU's state transfer did not finish within ${timeoutMs / 1000} s.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** As the embedded runner does on the serial console (guest-identity.ts); sshd is told to take a new machine's host keys. */
async function prepareGuest(runner: QemuRunner, o: QemuRunOptions): Promise<void> {
  const newKey = await ensureMachineKey(o.keyFile);
  const steps = [clockStep()];
  if (!o.resumeFrom || newKey) steps.push(await authorizedKeyStep(o.keyFile));
  if (newKey) steps.push(hostKeysStep(true));
  if (o.hostname) steps.push(hostnameStep(o.hostname));
  const code = await serialSteps(runner, steps, 60_000);
  if (code !== 0) throw new HangarError(`Setting the machine's ${identityStepFailure(code)} on its console failed (exit ${code}).`);
}

/** A loopback port free now (QEMU binds it a moment later). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Until the guest's SSH server sends its identification line through QEMU's forward (`timeoutMs` at most). */
async function waitForSshBanner(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      let seen = "";
      const done = (v: boolean): void => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(3_000, () => done(false));
      socket.on("data", (d: Buffer) => {
        seen += d.toString("latin1");
        if (seen.startsWith("SSH-")) done(true);
      });
      socket.on("error", () => done(false));
      socket.on("close", () => done(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new HangarError(`The machine's SSH server did not answer within ${timeoutMs / 1000} s.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
