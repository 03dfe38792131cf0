import { promises as fs } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { WATCH_HELPER, WATCH_HELPER_FILE, WATCH_PORT, WATCH_TOKEN_FILE } from "../emulator/guest-watch-relay";
import { ALWAYS_EXCLUDED } from "../sync/sync-excludes";
import type { EmbeddedBox } from "../boxes/embedded-box";
import { Emulator } from "../emulator/emulator-host";
import type { EmulatorBoot } from "../emulator/emulator-protocol";
import { product } from "../product";
import * as path from "node:path";
import { fsyncDir } from "../util/atomic-file";
import type { PrivateAddress } from "../network/private-addresses";
import type { Share } from "../shares/host-share-server";
import { CancelledError, errorMessage, HangarError } from "../util/errors";
import { exists } from "../util/path-exists";
import type { Progress } from "../util/progress";
import { shellQuote } from "../util/shell-quote";
import { PortRelays, type PortForward } from "../ports/port-relays";
import { CowDisk } from "../emulator/cow-disk";
import { serialRun, serialSteps, waitForSerial } from "./serial-console";
import { authorizedKeyStep, clockStep, ensureMachineKey, hostKeysStep, hostnameStep, identityStepFailure } from "./guest-identity";
import type { RunningMachine } from "./machine-provider";

export interface RunOptions {
  box: EmbeddedBox;
  memoryMiB: number;
  /** The machine's own private key (OpenSSH format); created on first up. */
  keyFile: string;
  /** A suspended machine's state to resume from, instead of the box's booted state. */
  resumeFrom?: string;
  hostname?: string | null;
  /**
   * The machine's disk: a host folder where `halt` keeps the guest's changes
   * to its root file system, restored by the next fresh start (the box's root
   * itself is in memory).
   */
  diskDir?: string;
  /**
   * A block device for the guest (/dev/sda) kept in a host file, sparse
   * (file-disk.ts): what the caller formats and mounts. A machine with one
   * stays paused after `save`; stop it next.
   */
  blockDisk?: { file: string; sizeBytes: number };
  /** The size of the root disk of a box whose root is a disk (config.vm.disk, primary); default the box's. */
  rootDiskBytes?: number;
  /**
   * Host folders to show in the guest (through 9p), bound at their guest paths
   * on a fresh start. Their files belong to the box's SSH user unless `owner`
   * says otherwise (the engine machine's shares keep root, as Docker's do).
   */
  syncedFolders?: Array<{ hostPath: string; guestPath: string; owner?: { uid: number; gid: number }; exclude?: string[] }>;
  /**
   * Replay host changes under the synced folders to the guest's inotify
   * (guest-watch-relay.ts), through a helper started as the box's SSH user.
   */
  watchSyncedFolders?: boolean;
  /**
   * Replay host changes only under folders named later with watchFolder (the
   * engine machine: its shares are whole host roots, its containers bind
   * folders inside them), through a helper started as root (the engine's
   * containers run as root; what it touches are root's files there).
   */
  watchOnRequest?: boolean;
  /**
   * Host ports relayed into the guest: the SSH endpoint (id "ssh", guest
   * port 22) and the Vagrantfile's forwarded ports. Without an "ssh" entry the
   * SSH endpoint takes any free loopback port.
   */
  forwards?: PortForward[];
  /** Addresses on private networks (claimed from the daemon's switch), set on the guest's eth0 beside its NAT address. */
  privateAddresses?: PrivateAddress[];
  onProgress?: Progress;
  /**
   * Cancels `up` while the guest boots (a first boot takes ~25 s): the
   * emulator is stopped and nothing is saved; a CancelledError says so. Past
   * the boot (restoring a saved state, installing the key) it runs to the end.
   */
  signal?: AbortSignal;
  onSerial?(line: string): void;
  bootTimeoutMs?: number;
}

/**
 * One running embedded machine: its emulator (in a worker), one SSH
 * connection reused for every command, and a relay on 127.0.0.1 for other
 * processes (the CLI, ssh, scp). `up` restores the box's booted state when it
 * exists and boots cold once to make it otherwise.
 */
/** Hangar's state, and the two trees no one watches from the guest but that cost the host most to watch. */
const WATCHED_EXCLUDES = [...ALWAYS_EXCLUDED, ".git/", "node_modules/"];
let watchIds = 0;

export class MachineRunner implements RunningMachine {
  readonly provider = "embedded" as const;
  /** The console's recent output, for `hangar console` (boot diagnostics, a guest whose network is down). */
  private consoleTail = "";

  private constructor(
    readonly emulator: Emulator,
    readonly ports: PortRelays,
    private readonly diskDir: string | undefined,
    /** Whether the root file system is a disk (its files persist by themselves; halt only makes it clean). */
    readonly rootOnDisk: boolean,
    /** The synced folders' shares: "s<i>" and its host folder. */
    private readonly sharedFolders: ReadonlyArray<{ name: string; hostPath: string }> = [],
  ) {
    emulator.on("serial", (text) => {
      this.consoleTail = (this.consoleTail + text).slice(-CONSOLE_TAIL_BYTES);
    });
  }

  onExit(listener: () => void): void {
    this.emulator.once("exit", listener);
  }

  offExit(listener: () => void): void {
    this.emulator.off("exit", listener);
  }

  /** Recent console output, then every new chunk until the returned function is called. */
  watchConsole(onText: (text: string) => void): () => void {
    if (this.consoleTail) onText(this.consoleTail);
    this.emulator.on("serial", onText);
    return () => this.emulator.off("serial", onText);
  }

  /** Types on the guest's serial console. */
  typeOnConsole(text: string): void {
    this.emulator.serial(text);
  }

  /**
   * Replays host changes under `hostPath` (a folder inside a synced folder)
   * to the guest's inotify at `guestPath` until `stop` is called (with
   * watchOnRequest). `ready` settles once the guest's helper holds the
   * folder's folders, so watches started from then on hold (or after
   * WATCH_SYNC_TIMEOUT_MS: watching is a convenience). A folder outside every
   * synced folder is not watched.
   */
  watchFolder(hostPath: string, guestPath: string, exclude: string[] = []): { ready: Promise<void>; stop(): void } {
    const share = this.sharedFolders.find((s) => {
      const rel = path.relative(s.hostPath, hostPath);
      return !rel.startsWith("..") && !path.isAbsolute(rel);
    });
    if (!share) return { ready: Promise.resolve(), stop: () => undefined };
    const id = `w${++watchIds}`;
    const ready = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emulator.off("watch-ready", onReady);
        this.emulator.off("exit", done);
        resolve();
      };
      const onReady = (watchId: string): void => void (watchId === id && done());
      const timer = setTimeout(done, WATCH_SYNC_TIMEOUT_MS);
      this.emulator.on("watch-ready", onReady);
      this.emulator.once("exit", done);
    });
    this.emulator.watchFolder(id, share.name, path.relative(share.hostPath, hostPath), guestPath, [...WATCHED_EXCLUDES, ...exclude]);
    return { ready, stop: () => this.emulator.unwatchFolder(id) };
  }

  /** The SSH endpoint's port on 127.0.0.1. */
  get sshPort(): number {
    return this.ports.port("ssh")!;
  }

  static async start(o: RunOptions): Promise<MachineRunner> {
    const forwards = o.forwards ?? [];
    if (!forwards.some((f) => f.id === "ssh")) forwards.unshift({ id: "ssh", guest: 22, host: 0, hostIp: "127.0.0.1", autoCorrect: false });
    // Ports first: one that is taken fails `up` before it costs a boot.
    const ports = await PortRelays.bind(forwards);
    try {
      return await MachineRunner.boot(o, ports);
    } catch (err) {
      await ports.close();
      throw err;
    }
  }

  private static async boot(o: RunOptions, ports: PortRelays): Promise<MachineRunner> {
    const progress = o.onProgress ?? (() => undefined);
    const cancelled = (): CancelledError => new CancelledError("Cancelled while starting; the machine was not started.");
    if (o.signal?.aborted) throw cancelled();
    const emulatorVersion = product.v86Version;
    const booted = o.box.bootedStateFile(o.memoryMiB, emulatorVersion);
    const owner = o.box.metadata.sshUserIds;
    const shares: Share[] = (o.syncedFolders ?? []).map((f, i) => ({ name: `s${i}`, hostPath: f.hostPath, ...((f.owner ?? owner) ? { owner: f.owner ?? owner } : {}) }));
    if (o.diskDir) {
      await fs.mkdir(o.diskDir, { recursive: true });
      // The cpio of a box whose root is in memory travels through it; a root disk's overlay is not the guest's to reach.
      if (!o.box.disk) shares.push({ name: "disk", hostPath: o.diskDir });
    }
    const folders = o.syncedFolders ?? [];
    const watch =
      o.watchSyncedFolders && folders.length
        ? {
            folders: folders.map((f, i) => ({ share: `s${i}`, guestPath: f.guestPath, exclude: [...WATCHED_EXCLUDES, ...(f.exclude ?? [])] })),
            token: randomBytes(16).toString("hex"),
          }
        : o.watchOnRequest
          ? { folders: [], token: randomBytes(16).toString("hex") }
          : undefined;
    // A box whose root is a disk: the machine's writes go to an overlay in its disk folder, over the box's image.
    const rootDisk = rootDiskOf(o);
    const common = {
      biosFile: o.box.file("bios"),
      vgaBiosFile: o.box.file("vgaBios"),
      memoryMiB: o.memoryMiB,
      shares,
      privateAddresses: o.privateAddresses ?? [],
      ...(watch ? { watch } : {}),
      ...(o.blockDisk ? { disk: o.blockDisk } : {}),
      ...(rootDisk ? { disk: rootDisk } : {}),
    };
    let emulator: Emulator;
    if (rootDisk) {
      emulator = await MachineRunner.startOnRootDisk(o, common, rootDisk, booted, progress, cancelled);
    } else if (o.resumeFrom) {
      progress(0.2, "Resuming the saved machine state");
      emulator = await Emulator.start({ ...common, stateFile: o.resumeFrom });
    } else if (o.blockDisk) {
      // The box's booted state was saved without a disk, and v86 does not take one into a restored machine: boot.
      progress(0.2, "Booting the box");
      emulator = await Emulator.start({ ...common, kernelFile: o.box.file("kernel"), initrdFile: o.box.file("initrd"), cmdline: o.box.metadata.cmdline });
      await bootOrStop(emulator, waitForSerial(emulator, o.box.metadata.readyMarker, o.bootTimeoutMs ?? 300_000, o.onSerial), o.signal, cancelled);
    } else if (await exists(booted)) {
      progress(0.2, "Restoring the box's booted state");
      emulator = await Emulator.start({ ...common, stateFile: booted });
    } else {
      progress(0.05, "Booting the box for the first time (its booted state is saved for next time)");
      emulator = await Emulator.start({ ...common, kernelFile: o.box.file("kernel"), initrdFile: o.box.file("initrd"), cmdline: o.box.metadata.cmdline });
      await bootOrStop(emulator, waitForSerial(emulator, o.box.metadata.readyMarker, o.bootTimeoutMs ?? 300_000, o.onSerial), o.signal, cancelled);
      progress(0.5, "Saving the booted state");
      await emulator.save(booted, false);
    }
    try {
      progress(0.7, "Installing the machine's key and mounting synced folders");
      await MachineRunner.prepareGuest(emulator, o, watch?.token);
      ports.attach((guestPort) => emulator.connect(guestPort));
      progress(1, "Machine is running");
      return new MachineRunner(
        emulator,
        ports,
        o.diskDir,
        rootDisk !== undefined,
        folders.map((f, i) => ({ name: `s${i}`, hostPath: f.hostPath })),
      );
    } catch (err) {
      await emulator.stop();
      throw err;
    }
  }

  /**
   * Starts a machine whose root file system is a disk. A suspended machine
   * resumes with its overlay as it was; one that ran before (halted, or its
   * daemon killed) boots cold on its overlay, which the guest's journal keeps
   * consistent; a new one takes the box's booted state together with the
   * overlay saved beside it (made by one cold boot), unless its disk size
   * differs from the box's (the state holds the disk's geometry): then it
   * boots cold too, and the guest grows its file system to the disk.
   */
  private static async startOnRootDisk(
    o: RunOptions,
    common: Omit<EmulatorBoot, "wasmFile" | "disk">,
    rootDisk: { file: string; sizeBytes: number; base: string },
    booted: string,
    progress: Progress,
    cancelled: () => CancelledError,
  ): Promise<Emulator> {
    const cold = { kernelFile: o.box.file("kernel"), initrdFile: o.box.file("initrd"), cmdline: o.box.metadata.cmdline };
    const bootCold = async (disk: typeof rootDisk): Promise<Emulator> => {
      const emulator = await Emulator.start({ ...common, ...cold, disk });
      await bootOrStop(emulator, waitForSerial(emulator, o.box.metadata.readyMarker, o.bootTimeoutMs ?? 300_000, o.onSerial), o.signal, cancelled);
      return emulator;
    };
    if (o.resumeFrom) {
      progress(0.2, "Resuming the saved machine state");
      return Emulator.start({ ...common, stateFile: o.resumeFrom, disk: rootDisk });
    }
    if ((await exists(CowDisk.files(rootDisk.file).map)) || rootDisk.sizeBytes !== o.box.disk!.sizeBytes) {
      progress(0.1, "Booting the machine from its disk");
      return bootCold(rootDisk);
    }
    const bootedDisk = snapshotDisk(booted);
    if (!(await exists(booted)) || !(await exists(CowDisk.files(bootedDisk).map))) {
      progress(0.05, "Booting the box for the first time (its booted state is saved for next time)");
      // Booted into an overlay of its own, saved with the state: both become the box's booted pair at once.
      const scratch = `${bootedDisk}-${randomBytes(4).toString("hex")}`;
      const first = await bootCold({ ...rootDisk, file: scratch });
      try {
        progress(0.5, "Saving the booted state");
        await first.save(`${booted}.tmp`, false, { copyTo: bootedDisk });
        await fs.rename(`${booted}.tmp`, booted);
      } finally {
        await first.stop();
        await CowDisk.removeOverlay(scratch);
      }
    }
    progress(0.2, "Restoring the box's booted state");
    await CowDisk.copyOverlay(bootedDisk, rootDisk.file);
    return Emulator.start({ ...common, stateFile: booted, disk: rootDisk });
  }

  /**
   * Vagrant's insecure-key scheme, with a per-box bootstrap key replaced by
   * the machine's own — done on the guest's serial console (a root shell the
   * host alone can reach), so `up` pays for no SSH handshake (~1 s of
   * emulated crypto on a freshly restored guest). A resumed guest already has
   * the machine's key.
   */
  private static async prepareGuest(emulator: Emulator, o: RunOptions, watchToken?: string): Promise<void> {
    // A key an earlier Hangar stored malformed (ssh2's generator, see ssh-keys.ts) is replaced, and installed again below.
    const newKey = await ensureMachineKey(o.keyFile);
    // One console command for everything (each costs a round of typing on an emulated UART); a failing step exits with its own code.
    const fresh = !o.resumeFrom;
    const steps: string[] = [];
    // The machine's disk comes back first, so the key and hostname below win over older copies in it.
    const disk = fresh && o.diskDir && (await exists(path.join(o.diskDir, ROOTFS_ARCHIVE))) ? path.join(o.diskDir, ROOTFS_ARCHIVE) : undefined;
    if (disk) steps.push(`{ ${RESTORE_ROOTFS}; } || exit 10`);
    // A restored guest's clock stands where its state was saved: set it to now.
    steps.push(clockStep());
    if (fresh || newKey) steps.push(await authorizedKeyStep(o.keyFile));
    // A new machine of a box whose root is a disk gets SSH host keys of its own (the box's are every machine's until then).
    if (newKey && o.box.disk) steps.push(hostKeysStep(false));
    if (o.hostname) steps.push(hostnameStep(o.hostname));
    // One NIC: private addresses go on eth0 beside the NAT's (a resumed guest may have them already).
    for (const a of o.privateAddresses ?? []) steps.push(`{ ip addr show dev eth0 | grep -q ' ${a.ip}/' || ip addr add ${a.ip}/${a.prefix} dev eth0; } || exit 14`);
    // A resumed guest keeps its mounts; a fresh one binds each share where its synced folder belongs.
    const folders = fresh ? (o.syncedFolders ?? []) : [];
    for (const [i, f] of folders.entries()) steps.push(`{ mkdir -p ${shellQuote(f.guestPath)} && mount -o bind /mnt/host9p/s${i} ${shellQuote(f.guestPath)}; } || exit ${20 + i}`);
    // The watch helper starts in the same command when the guest has the current one (the box ships it): exit 30 says to type it first.
    const helper = watchToken ? MachineRunner.watchHelperStart(o, watchToken, fresh) : undefined;
    if (helper) steps.push(`{ [ "$(sha256sum ${WATCH_HELPER_FILE} 2>/dev/null | cut -c1-64)" = ${WATCH_HELPER_SHA256} ] || exit 30; ${helper}; } || exit 31`);
    // Listening before the helper can start: its answer may come as soon as it does.
    const synced = helper ? watchSynced(emulator) : undefined;
    const code = await serialSteps(emulator, steps, disk ? 300_000 : 30_000);
    if (code === 0 || code === 30 || code === 31) {
      // Watching is a convenience: a helper that cannot start costs guest watchers their events, not the machine.
      if (helper && synced) await MachineRunner.startWatchHelper(emulator, helper, code, synced).catch((err: unknown) => o.onSerial?.(`hangar: ${errorMessage(err)}\n`));
      return;
    }
    if (code === 10) throw new HangarError(`Restoring the machine's files from ${disk} failed.`, "`hangar destroy` and `up` start it afresh from the box.");
    const folder = folders[code - 20];
    if (folder)
      throw new HangarError(`Mounting the synced folder ${folder.hostPath} at ${folder.guestPath} in the machine failed.`, "Check that the guest path is a directory path the guest can create.");
    throw new HangarError(`Setting the machine's ${identityStepFailure(code)} on its console failed (exit ${code}).`);
  }

  /**
   * The shell that hands the watch relay's guest helper (guest-watch-relay.ts)
   * its token and, on a fresh start, starts it: as the SSH user (what it
   * touches is that user's files), or root for the engine machine. A resumed
   * guest's helper keeps running and reads the new token.
   */
  private static watchHelperStart(o: RunOptions, token: string, fresh: boolean): string {
    const user = shellQuote(o.watchOnRequest ? "root" : (o.box.metadata.sshUser ?? "root"));
    // setsid: out of the console's session, so the console shell's job control never touches it.
    // busybox's nc and sh by name: a Debian box's /bin/sh is dash (whose redirections stop at fd 9), and it has no nc.
    const start = fresh ? ` && { setsid su -s /bin/sh ${user} -c 'busybox nc -ll -p ${WATCH_PORT} -e busybox sh ${WATCH_HELPER_FILE}' </dev/null >/dev/null 2>&1 & }` : "";
    return `(umask 077; echo ${token} > ${WATCH_TOKEN_FILE}) && chown ${user} ${WATCH_TOKEN_FILE}${start}`;
  }

  /**
   * After the guest prepared itself (`code`: 0 the helper started, 30 the
   * guest lacks the current helper, 31 it failed to start): types a missing
   * helper on the console, starts it, and waits until it holds every folder.
   */
  private static async startWatchHelper(emulator: Emulator, start: string, code: number, synced: Promise<void>): Promise<void> {
    if (code === 30) {
      // A box from before the helper shipped in it (or an older helper): busybox ash edits at most 1024 characters of a console line, so it goes in pieces.
      const pieces =
        Buffer.from(WATCH_HELPER)
          .toString("base64")
          .match(/.{1,600}/g) ?? [];
      code = await serialRun(emulator, `mkdir -p /etc/hangar && : > ${WATCH_HELPER_FILE}.b64`, 30_000);
      for (const piece of pieces) if (code === 0) code = await serialRun(emulator, `echo ${piece} >> ${WATCH_HELPER_FILE}.b64`, 30_000);
      if (code === 0) code = await serialRun(emulator, `base64 -d ${WATCH_HELPER_FILE}.b64 > ${WATCH_HELPER_FILE} && rm ${WATCH_HELPER_FILE}.b64 && chmod 755 ${WATCH_HELPER_FILE}`, 30_000);
      if (code === 0) code = await serialRun(emulator, start, 30_000);
    }
    if (code !== 0) throw new HangarError(`Starting the synced folders' watch helper on the machine's console failed (exit ${code}).`);
    emulator.watchHelperStarted();
    // `up` returns once the helper holds every folder: a watch started before that could land on an inode the 9p client then forgets.
    await synced;
  }

  /**
   * Keeps the guest's changes to its root file system on the machine's disk
   * (before a halt): every file newer than the box's own (whose times are the
   * build's fixed epoch), plus the list of all files so deletions come back
   * too. Written to a temporary name and renamed, then fsynced on the host.
   */
  async persistDisk(): Promise<boolean> {
    if (!this.diskDir || this.rootOnDisk) return false;
    const code = await serialRun(this.emulator, PERSIST_ROOTFS, 300_000);
    if (code !== 0) return false;
    const handle = await fs.open(path.join(this.diskDir, ROOTFS_ARCHIVE), "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(this.diskDir);
    return true;
  }

  /** Saves the whole guest state to `file` (suspend and snapshots compressed; a box's booted state raw). */
  save(file: string, compress = true): Promise<number> {
    return this.emulator.save(file, compress);
  }

  /**
   * A snapshot: the whole guest state and, for a root disk, its overlay at
   * the same instant (snapshotDisk(file)); the machine runs on. Compressed
   * unless it becomes a box's booted state (box package).
   */
  snapshot(file: string, compress = true): Promise<number> {
    return this.rootOnDisk ? this.emulator.save(file, compress, { copyTo: snapshotDisk(file), resume: true }) : this.emulator.save(file, compress);
  }

  /** Before the power goes: the guest's writes on the host's side, and a root disk left clean (read-only) where the guest allows. */
  async quiesce(): Promise<void> {
    await this.serial(this.rootOnDisk ? "sync; mount -o remount,ro /; sync" : "sync", 10_000).catch(() => undefined);
  }

  /** Runs a command on the guest's serial console; resolves with its exit code (output is not returned). */
  serial(command: string, timeoutMs = 30_000): Promise<number> {
    return serialRun(this.emulator, command, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.ports.close();
    await this.emulator.stop();
  }
}

/** When the watch helper holds every folder, or WATCH_SYNC_TIMEOUT_MS from now (watching works later regardless). */
function watchSynced(emulator: Emulator): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, WATCH_SYNC_TIMEOUT_MS);
    function done(): void {
      clearTimeout(timer);
      emulator.off("watch-synced", done);
      resolve();
    }
    emulator.on("watch-synced", done);
  });
}

const ROOTFS_ARCHIVE = "rootfs.cpio";
/** The overlay of a machine's root disk, in its disk folder (cow-disk.ts adds .data and .map). */
export const ROOT_DISK_OVERLAY = "root";

/** The root disk's overlay saved with a snapshot's state file. */
export function snapshotDisk(stateFile: string): string {
  return `${stateFile.replace(/\.state$/, "")}.disk`;
}

/** The machine's root disk, for a box whose root is a disk: its overlay over the box's image. */
function rootDiskOf(o: RunOptions): { file: string; sizeBytes: number; base: string } | undefined {
  const disk = o.box.disk;
  if (!disk) return undefined;
  if (!o.diskDir) throw new HangarError(`The box ${o.box.dir} boots from a disk, and the machine has no disk folder for its copy.`);
  const sizeBytes = o.rootDiskBytes ?? disk.sizeBytes;
  if (sizeBytes < disk.sizeBytes || sizeBytes % 512 !== 0)
    throw new HangarError(
      `The machine's disk (config.vm.disk size, ${sizeBytes} bytes) must be a multiple of 512 bytes and at least the box's ${disk.sizeBytes / 1024 ** 3} GiB: a disk grows, it does not shrink.`,
      `Set config.vm.disk :disk, size: "${Math.ceil(disk.sizeBytes / 1024 ** 3)}GB", primary: true or more, or leave it out.`,
    );
  return { file: path.join(o.diskDir, ROOT_DISK_OVERLAY), sizeBytes, base: disk.file };
}
/** How long `up` waits for the watch helper to hold the synced folders (a huge tree keeps chokidar scanning); watching works later regardless. */
const WATCH_SYNC_TIMEOUT_MS = 15_000;
/** The current watch helper's sha256: a guest whose helper has it (the box ships it) is not sent it again. */
const WATCH_HELPER_SHA256 = createHash("sha256").update(WATCH_HELPER).digest("hex");
const CONSOLE_TAIL_BYTES = 16 * 1024;
const DISK = "/mnt/host9p/disk";
/**
 * The box's init lists its files in /etc/hangar/box-files at boot; what is
 * missing from that list at halt was deleted, and is deleted again at up.
 * The archive holds every file newer than the box's own (whose times are the
 * build's fixed epoch), minus mount points (their content is not the disk's).
 */
const PERSIST_ROOTFS = [
  "set -e; cd /; mkdir -p etc/hangar",
  "if [ -f etc/hangar/box-files ]; then find . -xdev | awk 'NR==FNR{k[$0]=1;next} !($0 in k)' - etc/hangar/box-files > etc/hangar/deleted-files; fi",
  `find . -xdev -newer /init | awk 'NR==FNR{m["."$2]=1;next} $0!="." && !($0 in m)' /proc/mounts - | cpio -o -H newc > ${DISK}/${ROOTFS_ARCHIVE}.tmp`,
  `mv ${DISK}/${ROOTFS_ARCHIVE}.tmp ${DISK}/${ROOTFS_ARCHIVE}`,
].join("; ");
const RESTORE_ROOTFS = [
  `cd / && cpio -i -d -m -u < ${DISK}/${ROOTFS_ARCHIVE}`,
  // Deepest first, so a deleted directory's files go before it.
  `{ [ ! -f etc/hangar/deleted-files ] || sort -r etc/hangar/deleted-files | while IFS= read -r f; do rm -rf "$f"; done; }`,
].join(" && ");

/** Waits for `booting`; when it fails or `signal` aborts first, the emulator is stopped (nothing half-booted keeps running) and the error (or `cancelled()`) thrown. */
async function bootOrStop(emulator: Emulator, booting: Promise<unknown>, signal: AbortSignal | undefined, cancelled: () => Error): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([booting, aborted]);
  } catch (err) {
    booting.catch(() => undefined);
    await emulator.stop().catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}
