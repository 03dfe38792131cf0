import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ensureBuiltinBox, isBuiltinBox } from "../boxes/default-box/builtin-box";
import { BoxStore, type BoxEntry } from "../boxes/box-store";
import { addBoxFromUrls } from "../boxes/box-url";
import { newestSatisfying } from "../boxes/box-version";
import { DaemonClient } from "../daemon/daemon-client";
import type { MachineInfo } from "../daemon/daemon-protocol";
import { EmbeddedBox } from "../boxes/embedded-box";
import { CancelledError, HangarError } from "../util/errors";
import { exists } from "../util/path-exists";
import type { Progress } from "../util/progress";
import { hasErrors, loadVagrantfile } from "../vagrantfile/load-vagrantfile";
import type { MachineConfig, Provisioner } from "../vagrantfile/machine-config";
import type { VagrantfileEvaluator } from "../vagrantfile/ruby-evaluator";
import type { SyncBatch } from "../sync/folder-sync";
import { guestOwner, uploadFolder } from "./folder-upload";
import { CowDisk } from "../emulator/cow-disk";
import { MachineIndex } from "./machine-index";
import { packageMachine } from "./machine-packaging";
import { ROOT_DISK_OVERLAY } from "./machine-runner";
import { MachineRecords, machineState, runningMachines, type MachineRecord, type MachineStatus } from "./machine-records";
import { MachineSession } from "./machine-session";
import { MachineSnapshots } from "./machine-snapshots";
import { rsyncFolders, syncFolders } from "./machine-sync";
import { providerNamed, type ProviderName } from "./machine-provider";
import { checkProvisionWith, provisionPlan, runProvisioners } from "./provision";
import { memoryMiB, upParams } from "./up-params";

export interface UpOptions {
  progress?: Progress;
  /** Provisioner output, one line at a time, prefixed with the machine's name. */
  onOutput?(line: string, stream: "stdout" | "stderr"): void;
  /** --provision / --no-provision; default: provision on first up only. */
  provision?: boolean;
  /** --provision-with: only these provisioners (names or types; check them first with checkProvisionWith). */
  provisionWith?: string[];
  /** Cancels between steps: a machine started meanwhile is powered off again (nothing half-provisioned is left running). */
  signal?: AbortSignal;
  /** --provider: what runs new machines (an existing machine keeps its own). */
  provider?: string;
}

/** Host-side preferences (the extension's settings; the CLI uses the defaults). */
export interface ProjectOptions {
  /** Memory of a machine whose Vagrantfile sets none (default 256 MiB). */
  defaultMemoryMiB?: number;
  /** Extra excludes for rsync-type synced folders. */
  syncExcludes?: string[];
  /** First host port tried for SSH endpoints (default 2222, as Vagrant); taken ones move up within 50 ports (2200–2250 for 2222). */
  sshPortBase?: number;
  /** rsync-auto: how long host changes settle before a batch is copied (FolderSync's default, 40 ms, when unset). */
  syncSettleMs?: number;
  /** The Debian mirror a built-in box that is not installed is built from (hangar.debianMirror; else HANGAR_DEBIAN_MIRROR, else apt's). */
  debianMirror?: string;
  /** The provider of new machines when neither --provider nor the Vagrantfile says (hangar.machines.provider; else HANGAR_DEFAULT_PROVIDER). */
  defaultProvider?: string;
  /** qemu-system-i386 for the qemu provider (hangar.qemu.path; else HANGAR_QEMU, else PATH). */
  qemuPath?: string;
}

/**
 * The machines of one Vagrantfile, with Vagrant's lifecycle. Per-project
 * state lives in `.hangar/` beside the Vagrantfile (like `.vagrant/`,
 * MachineRecords); running machines live in the machine daemon of
 * HANGAR_HOME. Snapshots, packaging and rsync are in their own files; the
 * methods here are the one entry point the CLI and the editor use.
 */
export class ProjectMachines {
  readonly dir: string;
  readonly records: MachineRecords;
  private readonly snapshotStore: MachineSnapshots;

  constructor(
    readonly vagrantfile: string,
    readonly hangarHome: string,
    private readonly ruby: VagrantfileEvaluator,
    private readonly env: NodeJS.ProcessEnv = process.env,
    readonly options: ProjectOptions = {},
  ) {
    this.dir = path.dirname(path.resolve(vagrantfile));
    this.records = new MachineRecords(this.dir);
    this.snapshotStore = new MachineSnapshots(this);
  }

  async configs(): Promise<MachineConfig[]> {
    const result = await loadVagrantfile(this.vagrantfile, this.ruby, this.env);
    if (hasErrors(result)) {
      const e = result.issues.find((i) => i.severity === "error")!;
      throw new HangarError(`The Vagrantfile has errors (${this.vagrantfile}${e.line ? `:${e.line}` : ""}): ${e.message}`, "Fix it, then try again (`hangar validate` lists every problem).");
    }
    return result.machines;
  }

  /** The machines a command acts on: the named ones, or every machine (autostart ones for `up`). */
  async select(names: string[], forUp = false): Promise<MachineConfig[]> {
    const all = await this.configs();
    if (!names.length) return forUp ? all.filter((m) => m.autostart) : all;
    return names.map((n) => {
      const m = all.find((x) => x.name === n);
      if (!m) throw new HangarError(`The Vagrantfile defines no machine named '${n}' (it has ${all.map((x) => `'${x.name}'`).join(", ")}).`);
      return m;
    });
  }

  async status(names: string[] = []): Promise<MachineStatus[]> {
    const machines = await this.select(names);
    const daemon = await runningMachines(this.hangarHome);
    daemon?.client.close();
    const out: MachineStatus[] = [];
    for (const m of machines) {
      const rec = await this.records.read(m.name);
      const live = daemon?.list.find((i) => i.key === this.records.daemonKey(m.name));
      // Not created: the provider an up would choose (an unknown default is up's error to give).
      const provider = rec ? (rec.provider ?? "embedded") : this.tryProviderFor(m);
      if (live) out.push({ name: m.name, state: "running", provider: live.provider ?? provider, sshPort: live.sshPort, ports: live.ports, addresses: live.addresses ?? [] });
      else out.push({ name: m.name, state: rec ? machineState(rec, false) : "not_created", ...(provider ? { provider } : {}) });
    }
    return out;
  }

  /**
   * The installed box a new machine starts from: the newest version meeting
   * config.vm.box_version (RubyGems constraints, as Vagrant reads them). A box
   * that is not installed is added from config.vm.box_url when there is one.
   */
  private async resolveBox(m: MachineConfig, progress: (message: string) => void = () => undefined, signal?: AbortSignal): Promise<{ dir: string; version: string }> {
    if (!m.box) throw new HangarError(`Machine '${m.name}' has no box: set config.vm.box.`);
    const store = new BoxStore(this.hangarHome);
    const installed = async (): Promise<BoxEntry[]> => (await store.list()).filter((b) => b.name === m.box && b.provider === "embedded" && !b.problem);
    let boxes = await installed();
    if (!boxes.length && m.boxUrls.length) {
      await addBoxFromUrls(this.hangarHome, m.boxUrls, m.box, this.dir, progress, signal);
      boxes = await installed();
    } else if (!boxes.length && isBuiltinBox(m.box)) {
      // As Vagrant adds a missing box: the shipped copy, else built here.
      await ensureBuiltinBox(m.box, {
        hangarHome: this.hangarHome,
        mirror: this.options.debianMirror,
        env: this.env,
        signal,
        onProgress: (fraction, message) => progress(`${message} (${Math.round(fraction * 100)}%)`),
      });
      boxes = await installed();
    }
    const version = newestSatisfying(
      boxes.map((b) => b.version),
      m.boxVersion,
    );
    const chosen = boxes.find((b) => b.version === version);
    if (!chosen) {
      if (boxes.length && m.boxVersion)
        throw new HangarError(
          `The box '${m.box}' is installed in version${boxes.length > 1 ? "s" : ""} ${boxes.map((b) => b.version).join(", ")}, none of which meets the constraint '${m.boxVersion}' (config.vm.box_version).`,
          "Add a version that does with `hangar box add --box-version`, or change box_version.",
        );
      throw new HangarError(
        `The box '${m.box}'${m.boxVersion ? ` (version ${m.boxVersion})` : ""} is not installed for the embedded provider.`,
        isBuiltinBox(m.box)
          ? "It is built in: a damaged copy is named by `hangar box list`; remove it with `hangar box remove`, then `up` builds it again (or run `hangar box build`)."
          : `Add it with \`hangar box add ${m.box} URL\` (a .box file or a registry reference), or set config.vm.box_url to where it can be found.`,
      );
    }
    return { dir: chosen.path, version: chosen.version };
  }

  /**
   * What runs machine `m`, as Vagrant chooses: the one it was created with
   * (another asked for is refused until it is destroyed), else --provider,
   * else the default (setting, HANGAR_DEFAULT_PROVIDER), else the first of the
   * Vagrantfile's provider blocks Hangar has ("qemu", "hangar"), else embedded.
   */
  providerFor(m: MachineConfig, rec: MachineRecord | undefined, asked?: string): ProviderName {
    const wanted = asked ? providerNamed(asked, "--provider") : undefined;
    if (rec) {
      const current = rec.provider ?? "embedded";
      if (wanted && wanted !== current)
        throw new HangarError(
          `Machine '${m.name}' was created with the ${current} provider; it cannot be brought up with ${wanted} as well.`,
          `Destroy it first (\`hangar destroy ${m.name}\`), or leave out --provider.`,
        );
      return current;
    }
    if (wanted) return wanted;
    const fallback = this.options.defaultProvider || this.env.HANGAR_DEFAULT_PROVIDER;
    if (fallback) return providerNamed(fallback, this.options.defaultProvider ? "The hangar.machines.provider setting" : "HANGAR_DEFAULT_PROVIDER");
    const block = Object.keys(m.providers).find((p) => p === "qemu" || p === "hangar");
    return block === "qemu" ? "qemu" : "embedded";
  }

  private tryProviderFor(m: MachineConfig): ProviderName {
    try {
      return this.providerFor(m, undefined);
    } catch {
      return "embedded";
    }
  }

  async up(names: string[], o: UpOptions = {}): Promise<MachineStatus[]> {
    const progress = o.progress ?? (() => undefined);
    const onOutput = o.onOutput ?? (() => undefined);
    const machines = await this.select(names, true);
    // Memory outside what the emulator gives, or an unknown provider, is refused before anything is added, built or started.
    for (const m of machines) {
      memoryMiB(m, this.options);
      this.providerFor(m, await this.records.read(m.name), o.provider);
    }
    const daemon = (await runningMachines(this.hangarHome, true))!;
    try {
      const result: MachineStatus[] = [];
      for (const m of machines) {
        const rec = await this.records.read(m.name);
        if (o.signal?.aborted)
          throw new CancelledError(`Bringing up '${m.name}' was cancelled before it started; it is ${rec ? machineState(rec, false).replace("_", " ") : "not created"}, as before.`);
        const provider = this.providerFor(m, rec, o.provider);
        if ((m.cpus ?? 1) > 1 && provider === "embedded") onOutput(`${m.name}: the embedded emulator runs one CPU; cpus = ${m.cpus} is ignored.`, "stderr");
        const box = rec ? { dir: rec.boxDir, version: rec.boxVersion } : await this.resolveBox(m, (msg) => progress(0.02, `${m.name}: ${msg}`), o.signal);
        const savedState = this.records.savedStateFile(m.name);
        const resume = rec?.state === "saved" && (await exists(savedState));
        const params = await upParams(m, box.dir, this, { onOutput, provider, ...(resume ? { resumeFrom: savedState } : {}) });
        // A machine that died while running (aborted) comes back from its disk as of its last halt; with none, it starts from the box and is provisioned again.
        const diskDir = this.records.diskDir(m.name);
        const aborted = rec?.state === "running" && !(await exists(path.join(diskDir, "rootfs.cpio"))) && !(await exists(CowDisk.files(path.join(diskDir, ROOT_DISK_OVERLAY)).map));
        await this.records.write(m.name, {
          box: m.box!,
          boxVersion: box.version,
          boxDir: box.dir,
          createdAt: rec?.createdAt ?? new Date().toISOString(),
          state: "running",
          provisioned: !aborted && (rec?.provisioned ?? false),
          ...(provider !== "embedded" ? { provider } : {}),
        });
        await new MachineIndex(this.hangarHome).add(this.dir, m.name, m.box!);
        let info: MachineInfo;
        try {
          info = (await daemon.client.call("up", params, (f, msg) => progress(f, `${m.name}: ${msg}`), undefined, o.signal)) as MachineInfo;
        } catch (err) {
          // Nothing started (a taken port, a box that will not boot, Cancel while booting): the machine stays as it was.
          if (rec) await this.records.write(m.name, rec);
          else {
            await this.records.remove(m.name);
            await new MachineIndex(this.hangarHome).remove(this.dir, m.name);
          }
          if (err instanceof CancelledError)
            throw new CancelledError(`Bringing up '${m.name}' was cancelled before it started; it is ${rec ? machineState(rec, false).replace("_", " ") : "not created"}, as before.`);
          throw err;
        }
        for (const p of info.ports) if (p.requested && p.host !== p.requested) onOutput(`${m.name}: fixed port collision for ${p.guest} => ${p.requested}. Now on port ${p.host}.`, "stdout");
        if (resume) await fs.rm(savedState, { force: true });
        if (o.signal?.aborted) {
          await this.halt([m.name], true);
          throw new CancelledError(`Bringing up '${m.name}' was cancelled; it is powered off.`);
        }
        result.push({ name: m.name, state: "running", provider, sshPort: info.sshPort, ports: info.ports, addresses: info.addresses ?? [] });
        // A resumed guest kept its files; a booted one gets its rsync copies again (on QEMU, every synced folder is one).
        const copies = resume ? [] : rsyncFolders(provider === "qemu" ? asCopies(m) : m);
        // An SSH handshake costs about a second of emulated crypto: open one only when there is work for it.
        if (copies.length) {
          const session = await MachineSession.open(info.sshPort, this.records.keyFile(m.name));
          try {
            const owner = await guestOwner(session, await this.sshUser(m, box.dir));
            for (const f of copies) {
              progress(0.9, `${m.name}: copying ${f.hostPath} to ${f.guestPath}`);
              await uploadFolder(f, this.dir, session, this.options.syncExcludes ?? [], owner);
            }
          } finally {
            session.close();
          }
        }
        // Vagrant's rules (provision.ts), on a booted, resumed or already running machine alike.
        const plan = provisionPlan(m.provisioners, { provisioned: !aborted && !!rec?.provisioned, enabled: o.provision, only: o.provisionWith, command: "up" });
        for (const note of plan.notes) onOutput(`${m.name}: ${note}`, "stdout");
        if (plan.markProvisioned) await this.records.write(m.name, { ...(await this.records.read(m.name))!, provisioned: true });
        if (plan.run.length) await this.runProvisioners(m, box.dir, info.sshPort, plan.run, onOutput, o.signal);
        if (m.postUpMessage) for (const line of postUpMessage(m.name, m.postUpMessage)) onOutput(line, "stdout");
      }
      return result;
    } finally {
      daemon.client.close();
    }
  }

  /**
   * `hangar provision`: runs provisioners on running machines (`only`:
   * --provision-with, names or types). `signal` cancels between provisioners
   * and interrupts the running one; the machines keep running.
   */
  async provision(names: string[], only: string[], onOutput: (line: string, stream: "stdout" | "stderr") => void, signal?: AbortSignal): Promise<void> {
    const machines = await this.select(names);
    checkProvisionWith(machines, only);
    for (const m of machines) {
      if (signal?.aborted) throw new CancelledError(`Provisioning was cancelled before '${m.name}'; it is running, not provisioned again.`);
      const target = await this.sshTarget(m.name);
      const plan = provisionPlan(m.provisioners, { provisioned: true, only, command: "provision" });
      const rec = await this.records.read(m.name);
      if (rec) await this.records.write(m.name, { ...rec, provisioned: true });
      await this.runProvisioners(m, rec?.boxDir, target.port, plan.run, onOutput, signal);
    }
  }

  /** Runs provisioners over SSH as the machine's SSH user, as Vagrant's communicator does (sudo for privileged ones). */
  private async runProvisioners(
    m: MachineConfig,
    boxDir: string | undefined,
    port: number,
    list: Provisioner[],
    onLine: (line: string, stream: "stdout" | "stderr") => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const user = await this.sshUser(m, boxDir);
    const keyFile = this.records.keyFile(m.name);
    await runProvisioners(list, {
      machine: m,
      projectDir: this.dir,
      vagrantfile: path.resolve(this.vagrantfile),
      sshUser: user,
      connect: () => MachineSession.open(port, keyFile, user),
      onLine,
      ...(signal ? { signal } : {}),
    });
  }

  /** Snapshot names, oldest first. */
  snapshots(name: string): Promise<Array<{ name: string; createdAt: string; bytes: number }>> {
    return this.snapshotStore.list(name);
  }

  /** Saves the running machine's whole state as a named snapshot; the machine keeps running. */
  snapshotSave(name: string, snapshot: string, signal?: AbortSignal): Promise<void> {
    return this.snapshotStore.save(name, snapshot, signal);
  }

  /** Brings the machine back to a snapshot (it runs afterwards, as with Vagrant). */
  snapshotRestore(name: string, snapshot: string, progress?: Progress, signal?: AbortSignal): Promise<void> {
    return this.snapshotStore.restore(name, snapshot, progress, signal);
  }

  snapshotDelete(name: string, snapshot: string): Promise<void> {
    return this.snapshotStore.delete(name, snapshot);
  }

  /** `snapshot push`: a snapshot named push_<time>, the top of the machine's stack; returns its name. */
  async snapshotPush(name: string, signal?: AbortSignal): Promise<string> {
    const snapshot = `${PUSHED_PREFIX}${Date.now()}`;
    await this.snapshotSave(name, snapshot, signal);
    return snapshot;
  }

  /** `snapshot pop`: restores the newest pushed snapshot and deletes it; returns its name. */
  async snapshotPop(name: string, progress?: Progress, signal?: AbortSignal): Promise<string> {
    const pushed = (await this.snapshots(name)).filter((s) => s.name.startsWith(PUSHED_PREFIX));
    const last = pushed[pushed.length - 1];
    if (!last) throw new HangarError(`Machine '${name}' has no pushed snapshot to pop.`, "Push one first (snapshot push).");
    await this.snapshotRestore(name, last.name, progress, signal);
    await this.snapshotDelete(name, last.name);
    return last.name;
  }

  /** `box package`: a .box of the machine as it runs now (machine-packaging.ts); `signal` cancels before the next step, writing nothing. */
  package(name: string, out: string, signal?: AbortSignal): Promise<void> {
    return packageMachine(this, name, out, signal);
  }

  /**
   * `halt`; `force` powers off without keeping the guest's files (Vagrant's
   * halt -f). `signal` cancels at the safe point of each machine — after its
   * files are kept, before the power goes — leaving it running; machines
   * halted before that stay halted, and the CancelledError names both.
   */
  async halt(names: string[], force = false, signal?: AbortSignal): Promise<void> {
    const machines = await this.select(names);
    const daemon = await runningMachines(this.hangarHome);
    const halted: string[] = [];
    try {
      for (const m of machines) {
        const rec = await this.records.read(m.name);
        if (!rec) continue;
        let persisted = true;
        const key = this.records.daemonKey(m.name);
        // A running machine's halt is cancelled by the daemon, at its safe point (so an early Cancel still keeps its files first).
        if (!daemon?.list.some((i) => i.key === key)) {
          if (signal?.aborted) throw cancelledHalt(m.name, halted, "it is left as it was");
        } else {
          try {
            const r = (await daemon.client.call("halt", { key, persist: !force }, undefined, undefined, signal)) as { persisted: boolean };
            persisted = r.persisted;
          } catch (err) {
            if (err instanceof CancelledError) throw cancelledHalt(m.name, halted, err.message.replace(/^Halt cancelled: the machine/, "it"));
            throw err;
          }
        }
        await fs.rm(this.records.savedStateFile(m.name), { force: true });
        // The guest's root is in memory; halt keeps its changes on the machine's disk (disk/rootfs.cpio).
        // A forced halt, or a guest that could not write it, loses them: the next up starts from the box and provisions again.
        await this.records.write(m.name, { ...rec, state: "poweroff", provisioned: persisted && rec.provisioned });
        halted.push(m.name);
      }
    } finally {
      daemon?.client.close();
    }
  }

  /** `suspend`; `signal` cancels after the state is saved, before the machine stops: the state is dropped and it runs on. */
  async suspend(names: string[], signal?: AbortSignal): Promise<void> {
    const machines = await this.select(names);
    const daemon = await runningMachines(this.hangarHome);
    const suspended: string[] = [];
    try {
      for (const m of machines) {
        if (!daemon?.list.some((i) => i.key === this.records.daemonKey(m.name))) throw new HangarError(`Machine '${m.name}' is not running, so it cannot be suspended.`);
        if (signal?.aborted) throw cancelledSuspend(m.name, suspended);
        try {
          await this.suspendOne(daemon.client, m.name, signal);
        } catch (err) {
          if (err instanceof CancelledError) throw cancelledSuspend(m.name, suspended);
          throw err;
        }
        suspended.push(m.name);
      }
    } finally {
      daemon?.client.close();
    }
  }

  /**
   * Suspends every machine of this project that runs, without evaluating the
   * Vagrantfile (the daemon knows what runs): fast enough for an editor that
   * is closing. Returns the suspended machines' names.
   */
  async suspendRunning(): Promise<string[]> {
    const daemon = await runningMachines(this.hangarHome);
    if (!daemon) return [];
    try {
      const prefix = this.records.daemonKey("");
      const names = daemon.list.filter((i) => i.key.startsWith(prefix)).map((i) => i.key.slice(prefix.length));
      for (const name of names) await this.suspendOne(daemon.client, name);
      return names;
    } finally {
      daemon.client.close();
    }
  }

  private async suspendOne(client: DaemonClient, name: string, signal?: AbortSignal): Promise<void> {
    const rec = await this.records.read(name);
    if (!rec) throw new HangarError(`Machine '${name}' has no state in ${this.records.stateDir(name)}; it cannot be suspended.`);
    await client.call("suspend", { key: this.records.daemonKey(name), stateFile: this.records.savedStateFile(name) }, undefined, undefined, signal);
    await this.records.write(name, { ...rec, state: "saved" });
  }

  /**
   * `destroy`: powers each machine off and deletes its state. `signal`
   * cancels before the next machine: those destroyed stay destroyed, the
   * rest are left as they were (a forced power-off is over in moments, so
   * it is not interrupted halfway).
   */
  async destroy(names: string[], signal?: AbortSignal): Promise<void> {
    const machines = await this.select(names);
    const destroyed: string[] = [];
    for (const m of machines) {
      if (signal?.aborted) {
        const left = machines.filter((x) => !destroyed.includes(x.name)).map((x) => `'${x.name}'`);
        throw new CancelledError(
          `Destroy was cancelled${destroyed.length ? ` after destroying ${destroyed.map((d) => `'${d}'`).join(", ")}` : ""}; ${left.join(", ")} ${left.length === 1 ? "is" : "are"} left as before.`,
        );
      }
      await this.halt([m.name], true);
      await fs.rm(this.records.stateDir(m.name), { recursive: true, force: true });
      await new MachineIndex(this.hangarHome).remove(this.dir, m.name);
      destroyed.push(m.name);
    }
  }

  /**
   * Attaches to a running machine's serial console (a root shell on ttyS0):
   * recent output first, then live; `type` sends keys. `done` resolves when
   * the machine stops or `close` is called.
   */
  async console(name: string, onText: (text: string) => void): Promise<{ type(text: string): void; close(): void; done: Promise<void> }> {
    const [s] = await this.status([name]);
    if (s.state !== "running") throw new HangarError(`Machine '${name}' is ${s.state.replace("_", " ")}; its console exists while it runs (\`hangar up ${name}\`).`);
    const stream = await DaemonClient.connect(this.hangarHome, { start: false });
    const input = await DaemonClient.connect(this.hangarHome, { start: false });
    const key = this.records.daemonKey(name);
    const done = stream.call("console", { key }, undefined, onText).then(
      () => undefined,
      () => undefined,
    );
    return {
      type: (text) => void input.call("console-input", { key, text }).catch(() => undefined),
      close: () => {
        stream.close();
        input.close();
      },
      done: done.finally(() => input.close()),
    };
  }

  /** `rsync` / `rsync-auto` (machine-sync.ts). */
  syncFolders(name: string, o: { follow?: boolean; onBatch?(folder: string, batch: SyncBatch): void; onError?(err: Error): void } = {}): Promise<{ folders: string[]; stop(): Promise<void> }> {
    return syncFolders(this, name, o);
  }

  /**
   * Where people's SSH connects for a running machine: its endpoint on
   * 127.0.0.1, its key, and the user — config.ssh.username, else the box's
   * (`vagrant` in the default box, which has sudo), else root.
   */
  async sshTarget(name: string): Promise<{ port: number; keyFile: string; user: string }> {
    const [s] = await this.status([name]);
    if (s.state !== "running" || !s.sshPort) throw new HangarError(`Machine '${name}' is ${s.state.replace("_", " ")}; run \`hangar up ${name}\` first.`);
    const [m] = await this.select([name]);
    const rec = await this.records.read(name);
    return { port: s.sshPort, keyFile: this.records.keyFile(name), user: await this.sshUser(m, rec?.boxDir) };
  }

  private async sshUser(m: MachineConfig, boxDir: string | undefined): Promise<string> {
    if (typeof m.ssh.username === "string") return m.ssh.username;
    const boxUser = boxDir
      ? await EmbeddedBox.open(boxDir).then(
          (b) => b.metadata.sshUser,
          () => undefined,
        )
      : undefined;
    return boxUser ?? "root";
  }
}

/** Names of snapshots made by `snapshot push` (Vagrant's push/pop stack). */
const PUSHED_PREFIX = "push_";

function cancelledHalt(name: string, halted: string[], state: string): CancelledError {
  return new CancelledError(`Halting '${name}' was cancelled; ${state}.${halted.length ? ` Halted before that: ${halted.map((h) => `'${h}'`).join(", ")}.` : ""}`);
}

function cancelledSuspend(name: string, suspended: string[]): CancelledError {
  return new CancelledError(`Suspending '${name}' was cancelled; it is still running.${suspended.length ? ` Suspended before that: ${suspended.map((h) => `'${h}'`).join(", ")}.` : ""}`);
}

/** Vagrant's framing of config.vm.post_up_message, shown after each `up` of the machine. */
export function postUpMessage(name: string, message: string): string[] {
  return [
    `==> ${name}: Machine '${name}' has a post \`vagrant up\` message. This is a message`,
    `==> ${name}: from the creator of the Vagrantfile, and not from Vagrant itself:`,
    `==> ${name}:`,
    ...message
      .replace(/\n+$/, "")
      .split("\n")
      .map((line) => `==> ${name}: ${line}`.trimEnd()),
  ];
}

/** The machine with every synced folder copied in (rsync type), as on providers without shared folders. */
function asCopies(m: MachineConfig): MachineConfig {
  return { ...m, syncedFolders: m.syncedFolders.map((f) => (f.disabled ? f : { ...f, type: "rsync" })) };
}
