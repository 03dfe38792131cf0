import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ensureBuiltinBox } from "../../boxes/default-box/builtin-box";
import { BoxStore, type BoxEntry } from "../../boxes/box-store";
import { DEFAULT_BOX_NAME } from "../../boxes/default-box/default-box-builder";
import { EmbeddedBox } from "../../boxes/embedded-box";
import { MachineRunner, type RunOptions } from "../../machines/machine-runner";
import { MachineSession } from "../../machines/machine-session";
import { product } from "../../product";
import { writeFileAtomic } from "../../util/atomic-file";
import { errorMessage, HangarError } from "../../util/errors";
import type { ImageStore } from "../images/image-store";
import { GuestRuntime } from "../runtime/guest-runtime";
import type { LayerStaging } from "../runtime/layer-staging";

export interface EngineMachineOptions {
  hangarHome: string;
  memoryMiB: number;
  /** Suspend the machine after this long with nothing running in it (0: never). */
  idleSuspendMs?: number;
  /** Host folders the machine sees over 9p: the volumes folder and the roots bind mounts may come from (engine-shares.ts). */
  syncedFolders?: RunOptions["syncedFolders"];
  log?(line: string): void;
  /** Keep images and containers on a disk (HANGAR_ENGINE_DISK=1), not in the machine's memory. */
  disk?: boolean;
  /** The share image layers reach the guest through (one of syncedFolders), instead of the SSH session. */
  staging?: LayerStaging;
  /** Where the default box is built from when it is not installed (and no packaged copy is shipped). */
  mirror?: string;
  env?: NodeJS.ProcessEnv;
}

/** What a saved engine machine was made from: a state is resumed only into the same box and memory size. */
interface SavedState {
  box: string;
  memoryMiB: number;
  emulator: string;
  /** The host folders it was given (a resumed guest keeps its mounts, so they must be the same). */
  shares: string[];
  /** The size of the disk it was saved with (disk.img beside the state holds the rest). */
  diskBytes?: number;
}

/** The engine machine's disk (sparse: it takes what images and containers use): where they live, not in the guest's memory. */
export const ENGINE_DISK_BYTES = 16 * 1024 ** 3;
/** Where the guest keeps images and containers (container-paths.ts); the disk is mounted in it, and its folders bound over theirs. */
const ENGINE_DATA_DIR = "/var/lib/hangar";
const ENGINE_DISK_DIR = `${ENGINE_DATA_DIR}/disk`;
/** Unpacked images, containers' layers, image-unpack.ts's layer chains. */
const ENGINE_DISK_FOLDERS = ["images", "containers", "chains"];
/** How much of a disk-less engine machine's memory its root tmpfs (images, containers) may take. */
const MEMORY_ROOT_PERCENT = 80;

/** Docker Desktop's Resource Saver waits five minutes; so does Hangar by default. */
export const DEFAULT_IDLE_SUSPEND_MS = 5 * 60_000;

/**
 * The hidden embedded machine containers run in (as Docker Desktop runs
 * dockerd in a VM): made from the default box on the first request that
 * needs it, with its own key under HANGAR_HOME/engine, and one root SSH
 * session every container step goes over.
 */
export class EngineMachine {
  private starting?: Promise<GuestRuntime>;
  private runner?: MachineRunner;
  private session?: MachineSession;
  private suspending?: Promise<void>;
  private lastUse = Date.now();
  private readonly idleTimer?: NodeJS.Timeout;
  /** Host folders whose changes reach the guest's inotify (running containers' bind mounts), kept across a restart of the machine. */
  private readonly watched = new Set<{ hostPath: string; guestPath: string; stop: () => void }>();

  constructor(
    private readonly o: EngineMachineOptions,
    private readonly images: ImageStore,
  ) {
    const idle = o.idleSuspendMs ?? DEFAULT_IDLE_SUSPEND_MS;
    if (idle > 0) {
      this.idleTimer = setInterval(() => void this.suspendIfIdle(idle), Math.min(30_000, Math.max(1000, idle / 4)));
      this.idleTimer.unref();
    }
  }

  get running(): boolean {
    return this.runner !== undefined;
  }

  /** The state a suspended machine is kept in: containers' writable layers and unpacked images survive engine restarts in it. */
  private get stateFile(): string {
    return path.join(this.o.hangarHome, "engine", "machine.state");
  }

  /** The runtime, starting (or resuming) the machine first when it is not running. */
  async runtime(): Promise<GuestRuntime> {
    this.lastUse = Date.now();
    await this.suspending;
    if (!this.starting) {
      this.starting = this.start();
      this.starting.catch(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async start(): Promise<GuestRuntime> {
    const find = async (): Promise<BoxEntry | undefined> => (await new BoxStore(this.o.hangarHome).list()).find((b) => b.name === DEFAULT_BOX_NAME && b.provider === "embedded" && !b.problem);
    if (!(await find())) {
      await ensureBuiltinBox(DEFAULT_BOX_NAME, {
        hangarHome: this.o.hangarHome,
        mirror: this.o.mirror,
        env: this.o.env,
        onProgress: (fraction, message) => this.o.log?.(`${message} (${Math.round(fraction * 100)}%)`),
      });
    }
    const entry = await find();
    if (!entry)
      throw new HangarError(
        `The engine runs containers in a machine made from the box ${DEFAULT_BOX_NAME}, which is not installed.`,
        "Build it once with `hangar box build` (or from the Boxes view), then try again.",
      );
    const box = await EmbeddedBox.open(entry.path);
    const dir = path.join(this.o.hangarHome, "engine");
    await fs.mkdir(dir, { recursive: true });
    const keyFile = path.join(dir, "machine_key");
    const made: SavedState = {
      box: `${entry.name} ${entry.version}`,
      memoryMiB: this.o.memoryMiB,
      emulator: product.v86Version,
      shares: (this.o.syncedFolders ?? []).map((f) => `${f.hostPath}:${f.guestPath}`),
      ...(this.o.disk ? { diskBytes: ENGINE_DISK_BYTES } : {}),
    };
    const resumeFrom = await this.savedStateFor(made);
    this.o.log?.(`${resumeFrom ? "resuming" : "starting"} the engine machine (${this.o.memoryMiB} MiB, box ${entry.name} ${entry.version})`);
    const diskFile = path.join(dir, "disk.img");
    const options: RunOptions = {
      box,
      memoryMiB: this.o.memoryMiB,
      keyFile,
      hostname: "hangar-engine",
      syncedFolders: this.o.syncedFolders,
      watchOnRequest: true,
      ...(this.o.disk ? { blockDisk: { file: diskFile, sizeBytes: ENGINE_DISK_BYTES } } : {}),
    };
    // A fresh machine gets an empty disk, as it gets empty memory: what was on the disk belonged to the state it replaces.
    const fresh = async (): Promise<MachineRunner> => {
      await fs.rm(diskFile, { force: true });
      return MachineRunner.start(options);
    };
    let runner: MachineRunner;
    let formatted = false;
    try {
      runner = resumeFrom ? await MachineRunner.start({ ...options, resumeFrom }) : await fresh();
      formatted = !!resumeFrom;
    } catch (err) {
      if (!resumeFrom) throw err;
      // A state that cannot be resumed costs its contents, not the engine: start afresh.
      this.o.log?.(`resuming the engine machine failed (${errorMessage(err)}); starting it afresh`);
      await this.discardState();
      runner = await fresh();
    }
    // Resumed once: the state is spent (the running machine moves on from it).
    if (resumeFrom) await this.discardState();
    try {
      const session = await MachineSession.open(runner.sshPort, keyFile);
      if (!formatted && this.o.disk) await this.mountDisk(session);
      // Without a disk, images and containers live in the root's tmpfs: let them have most of the memory, not half
      // (a Debian image and one built on it need ~250 MB), the rest stays for the processes.
      else if (!formatted) {
        const r = await session.run(`mount -o remount,size=${MEMORY_ROOT_PERCENT}% /`);
        if (r.code !== 0) this.o.log?.(`the engine machine's root keeps its default size (${r.stderr.trim() || `exit status ${r.code}`})`);
      }
      session.onClose((error) => {
        // The guest went away (it crashed, was stopped or suspended): the next request starts or resumes one.
        if (this.session !== session) return;
        let tail = "";
        runner.watchConsole((text) => (tail += text))();
        const why = error ? ` (${errorMessage(error)})` : "";
        this.o.log?.(`the engine machine's SSH connection closed unexpectedly${why}; its console ended with:\n${tail.slice(-2000) || "(nothing)"}`);
        this.runner = undefined;
        this.session = undefined;
        this.starting = undefined;
        // Whatever is left of that machine goes: two engine machines never run at once.
        void runner.stop().catch(() => undefined);
      });
      this.runner = runner;
      this.session = session;
      for (const w of this.watched) w.stop = runner.watchFolder(w.hostPath, w.guestPath).stop;
      // Starting took a while: the request that asked for it has not used it yet.
      this.lastUse = Date.now();
      await writeFileAtomic(`${this.stateFile}.json`, JSON.stringify(made) + "\n");
      return new GuestRuntime(session, this.images, this.o.staging);
    } catch (err) {
      await runner.stop().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Formats the fresh machine's disk and mounts it where images and
   * containers live. A box without the disk's drivers (built before box
   * revision 6) keeps them in memory, as before, and the log says so.
   */
  private async mountDisk(session: MachineSession): Promise<void> {
    const script = [
      // (a machine with a disk boots with it attached: the drivers find it at boot, or shortly after)
      "i=0; while [ ! -b /dev/sda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done",
      '[ -b /dev/sda ] || { echo "no /dev/sda: the box has no disk drivers"; exit 3; }',
      "set -e",
      // One inode per 64 KiB: image trees are many small files; the tables busybox's mke2fs writes stay small.
      "mke2fs -q -F -i 65536 -m 0 -L hangar-engine /dev/sda >/dev/null",
      `mkdir -p ${ENGINE_DISK_DIR}`,
      `mount -t ext4 -o noatime /dev/sda ${ENGINE_DISK_DIR} || { dmesg | tail -n 5 >&2; exit 1; }`,
      // What grows goes on the disk; the trusted tools folder stays on the root (its hard links need the root's file system).
      `for d in ${ENGINE_DISK_FOLDERS.join(" ")}; do mkdir -p ${ENGINE_DISK_DIR}/$d ${ENGINE_DATA_DIR}/$d; mount --bind ${ENGINE_DISK_DIR}/$d ${ENGINE_DATA_DIR}/$d; done`,
    ].join("\n");
    const t = Date.now();
    const r = await session.run(script);
    if (r.code === 3) this.o.log?.(`the engine machine has no disk (${r.stdout.trim()}); images and containers stay in its memory`);
    else if (r.code !== 0) throw new HangarError(`Preparing the engine machine's disk failed: ${`${r.stderr}\n${r.stdout}`.trim() || `exit status ${r.code}`}`);
    else this.o.log?.(`engine disk ready (${ENGINE_DISK_BYTES / 1024 ** 3} GiB, sparse) in ${Date.now() - t} ms`);
  }

  /** The saved state when it was made from this box and memory size; a mismatched one is dropped (said in the log). */
  private async savedStateFor(made: SavedState): Promise<string | undefined> {
    const saved = JSON.parse(await fs.readFile(`${this.stateFile}.json`, "utf8").catch(() => "null")) as SavedState | null;
    if (!(await fs.stat(this.stateFile).catch(() => undefined))) return undefined;
    const disk = await fs.stat(path.join(this.o.hangarHome, "engine", "disk.img")).catch(() => undefined);
    if (
      saved &&
      saved.diskBytes === made.diskBytes &&
      (made.diskBytes === undefined || disk?.size === made.diskBytes) &&
      saved.box === made.box &&
      saved.memoryMiB === made.memoryMiB &&
      saved.emulator === made.emulator &&
      JSON.stringify(saved.shares ?? []) === JSON.stringify(made.shares)
    )
      return this.stateFile;
    this.o.log?.(
      `dropping the saved engine machine (${saved ? `${saved.box}, ${saved.memoryMiB} MiB, shares ${(saved.shares ?? []).join(" ")}, disk ${saved.diskBytes ?? "none"}` : "unknown origin"}): it does not match ${made.box}, ${made.memoryMiB} MiB, shares ${made.shares.join(" ")}, disk ${made.diskBytes} (${disk ? `disk.img ${disk.size} bytes` : "no disk.img"})`,
    );
    await this.discardState();
    return undefined;
  }

  /**
   * Replays host changes under a bind-mounted host folder (a real path under
   * a shared root) to inotify watchers on its guest path, so a container's
   * nodemon or webpack hears of an edit on the host, until `stop` is
   * called. `ready`: watches made in the folder from then on hold.
   */
  watchFolder(hostPath: string, guestPath: string): { ready: Promise<void>; stop(): void } {
    const watching = this.runner?.watchFolder(hostPath, guestPath);
    const w = { hostPath, guestPath, stop: watching?.stop ?? (() => undefined) };
    this.watched.add(w);
    return {
      ready: watching?.ready ?? Promise.resolve(),
      stop: () => {
        if (this.watched.delete(w)) w.stop();
      },
    };
  }

  /** Whether a suspended machine waits to be resumed (its containers' layers are in it). */
  async hasSavedState(): Promise<boolean> {
    return (await fs.stat(this.stateFile).catch(() => undefined)) !== undefined;
  }

  private async discardState(): Promise<void> {
    await fs.rm(this.stateFile, { force: true });
  }

  /** Idle: running, nothing open in it (every container, exec and relayed connection holds a channel), and unused for `idleMs`. */
  private async suspendIfIdle(idleMs: number): Promise<void> {
    if (!this.session || this.suspending || this.session.openChannels > 0) return;
    const last = Math.max(this.lastUse, this.session.lastUsed);
    if (Date.now() - last < idleMs) return;
    this.o.log?.(`suspending the idle engine machine (unused for ${Math.round((Date.now() - last) / 1000)} s)`);
    await this.suspend().catch((err: unknown) => this.o.log?.(`suspending the engine machine failed: ${errorMessage(err)}`));
  }

  /**
   * Saves the machine's whole state and stops it: the next request resumes
   * it as it was (its containers' writable layers, unpacked images,
   * networks' bridges). Nothing may run in it (the caller stops containers first).
   */
  async suspend(): Promise<void> {
    const runner = this.runner;
    if (!runner || this.suspending) return this.suspending;
    this.suspending = (async () => {
      try {
        await this.starting?.catch(() => undefined);
        const session = this.session;
        this.session = undefined;
        this.runner = undefined;
        this.starting = undefined;
        // (the guest sees the connection end before the save: resumed, a half-open one from the state would be its too)
        await session?.closeAndWait();
        const t = Date.now();
        const bytes = await runner.save(this.stateFile);
        this.o.log?.(`engine machine suspended: ${Math.round(bytes / 1e6)} MB in ${Date.now() - t} ms`);
      } finally {
        await runner.stop().catch(() => undefined);
        this.suspending = undefined;
      }
    })();
    return this.suspending;
  }

  /** The engine machine's kernel release, when it runs (what `docker info` reports). */
  async kernelVersion(): Promise<string | undefined> {
    if (!this.session) return undefined;
    // (read-only, so asked again when dropbear refuses the exec: health probes make busy engine machines more common)
    return (await this.session.run("uname -r", { retryRefused: true })).stdout.trim() || undefined;
  }

  /** Stops the machine without keeping its state (`suspend` keeps it). */
  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await this.suspending;
    const runner = this.runner;
    this.session?.close();
    this.runner = undefined;
    this.session = undefined;
    this.starting = undefined;
    await runner?.stop();
  }
}
