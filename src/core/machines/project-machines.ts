import { promises as fs } from "node:fs";
import * as path from "node:path";
import { BoxStore } from "../boxes/box-store";
import { DaemonClient } from "../daemon/daemon-client";
import type { MachineInfo } from "../daemon/daemon-protocol";
import { writeFileAtomic } from "../util/atomic-file";
import { writeBoxFile } from "../boxes/box-archive";
import { EmbeddedBox } from "../boxes/embedded-box";
import { product } from "../product";
import { CancelledError, HangarError } from "../util/errors";
import { hasErrors, loadVagrantfile } from "../vagrantfile/load-vagrantfile";
import type { MachineConfig } from "../vagrantfile/machine-config";
import type { RubyEvaluator } from "../vagrantfile/ruby-evaluator";
import { guestOwner, uploadFolder } from "./folder-upload";
import { FolderSync, type SyncBatch } from "../sync/folder-sync";
import { MachineIndex } from "./machine-index";
import { MachineSession } from "./machine-session";
import { runProvisioners } from "./provision";
import { USABLE_PORT_RANGE, type BoundPort, type PortForward } from "../ports/port-relays";

/** Vagrant's machine states. */
export type MachineState = "not_created" | "running" | "saved" | "poweroff" | "aborted";

export interface MachineStatus {
  name: string;
  state: MachineState;
  sshPort?: number;
  /** A running machine's forwarded ports as bound (the SSH endpoint's id is "ssh"). */
  ports?: BoundPort[];
}

/** What `.hangar/machines/<name>/machine.json` records (written atomically). */
interface MachineRecord {
  box: string;
  boxVersion: string;
  boxDir: string;
  createdAt: string;
  /** What the last command left it as; "running" with no daemon entry means it died: aborted. */
  state: "running" | "saved" | "poweroff";
  /** `run: once` provisioners have run (Vagrant's first-up provisioning). */
  provisioned?: boolean;
}

export interface UpOptions {
  progress?: Progress;
  /** Provisioner output, one line at a time, prefixed with the machine's name. */
  onOutput?(line: string, stream: "stdout" | "stderr"): void;
  /** --provision / --no-provision; default: provision on first up only. */
  provision?: boolean;
  /** Cancels between steps: a machine started meanwhile is powered off again (nothing half-provisioned is left running). */
  signal?: AbortSignal;
}

export type Progress = (fraction: number, message: string) => void;

/** Host-side preferences (the extension's settings; the CLI uses the defaults). */
export interface ProjectOptions {
  /** Memory of a machine whose Vagrantfile sets none (default 256 MiB). */
  defaultMemoryMiB?: number;
  /** Extra excludes for rsync-type synced folders. */
  syncExcludes?: string[];
  /** First host port tried for SSH endpoints (default 2222, as Vagrant); taken ones move up within 50 ports (2200–2250 for 2222). */
  sshPortBase?: number;
}

/**
 * The machines of one Vagrantfile, with Vagrant's lifecycle. Per-project
 * state lives in `.hangar/` beside the Vagrantfile (like `.vagrant/`); running
 * machines live in the machine daemon of HANGAR_HOME.
 */
export class ProjectMachines {
  readonly dir: string;

  constructor(
    readonly vagrantfile: string,
    private readonly hangarHome: string,
    private readonly ruby: RubyEvaluator,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly options: ProjectOptions = {},
  ) {
    this.dir = path.dirname(path.resolve(vagrantfile));
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

  private stateDir(name: string): string {
    return path.join(this.dir, ".hangar", "machines", name);
  }

  private key(name: string): string {
    return `${this.dir}#${name}`;
  }

  private async record(name: string): Promise<MachineRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.stateDir(name), "machine.json"), "utf8")) as MachineRecord;
    } catch {
      return undefined;
    }
  }

  private async writeRecord(name: string, record: MachineRecord): Promise<void> {
    await fs.mkdir(this.stateDir(name), { recursive: true });
    await writeFileAtomic(path.join(this.stateDir(name), "machine.json"), JSON.stringify(record, null, 2) + "\n");
  }

  private async running(start = false): Promise<{ client: DaemonClient; list: MachineInfo[] } | undefined> {
    try {
      const client = await DaemonClient.connect(this.hangarHome, { start });
      return { client, list: (await client.call("list", {})) as MachineInfo[] };
    } catch (err) {
      if (start) throw err;
      return undefined;
    }
  }

  async status(names: string[] = []): Promise<MachineStatus[]> {
    const machines = await this.select(names);
    const daemon = await this.running(false);
    daemon?.client.close();
    const out: MachineStatus[] = [];
    for (const m of machines) {
      const rec = await this.record(m.name);
      const live = daemon?.list.find((i) => i.key === this.key(m.name));
      if (live) out.push({ name: m.name, state: "running", sshPort: live.sshPort, ports: live.ports });
      else if (!rec) out.push({ name: m.name, state: "not_created" });
      else if (rec.state === "running") out.push({ name: m.name, state: "aborted" });
      else out.push({ name: m.name, state: rec.state });
    }
    return out;
  }

  private async resolveBox(m: MachineConfig): Promise<{ dir: string; version: string }> {
    if (!m.box) throw new HangarError(`Machine '${m.name}' has no box: set config.vm.box.`);
    const boxes = (await new BoxStore(this.hangarHome).list()).filter((b) => b.name === m.box && b.provider === "embedded" && !b.problem);
    const wanted = m.boxVersion ? boxes.filter((b) => b.version === m.boxVersion) : boxes;
    if (!wanted.length) throw new HangarError(`The box '${m.box}'${m.boxVersion ? ` version ${m.boxVersion}` : ""} is not installed for the embedded provider.`, "Add it with `hangar box add`.");
    return { dir: wanted[0].path, version: wanted[0].version };
  }

  async up(names: string[], options: UpOptions | Progress = {}): Promise<MachineStatus[]> {
    const o: UpOptions = typeof options === "function" ? { progress: options } : options;
    const progress = o.progress ?? (() => undefined);
    const onOutput = o.onOutput ?? (() => undefined);
    const machines = await this.select(names, true);
    const daemon = (await this.running(true))!;
    try {
      const result: MachineStatus[] = [];
      for (const m of machines) {
        if (o.signal?.aborted) throw new CancelledError("Cancelled.");
        const rec = await this.record(m.name);
        if ((m.cpus ?? 1) > 1) onOutput(`${m.name}: the embedded emulator runs one CPU; cpus = ${m.cpus} is ignored.`, "stderr");
        const box = rec ? { dir: rec.boxDir, version: rec.boxVersion } : await this.resolveBox(m);
        const savedState = path.join(this.stateDir(m.name), "saved.state");
        const resume = rec?.state === "saved" && (await exists(savedState));
        const syncedFolders = await this.mountedFolders(m);
        const diskDir = path.join(this.stateDir(m.name), "disk");
        // A machine that died while running (aborted) comes back from its disk as of its last halt; with none, it starts from the box and is provisioned again.
        const aborted = rec?.state === "running" && !(await exists(path.join(diskDir, "rootfs.cpio")));
        await this.writeRecord(m.name, { box: m.box!, boxVersion: box.version, boxDir: box.dir, createdAt: rec?.createdAt ?? new Date().toISOString(), state: "running", provisioned: !aborted && (rec?.provisioned ?? false) });
        await new MachineIndex(this.hangarHome).add(this.dir, m.name, m.box!);
        let info: MachineInfo;
        try {
          info = (await daemon.client.call(
            "up",
            { key: this.key(m.name), boxDir: box.dir, memoryMiB: m.memory ?? this.options.defaultMemoryMiB ?? 256, keyFile: path.join(this.stateDir(m.name), "private_key"), hostname: m.hostname, syncedFolders, diskDir, forwards: this.forwards(m, onOutput), ...(resume ? { resumeFrom: savedState } : {}) },
            (f, msg) => progress(f, `${m.name}: ${msg}`),
          )) as MachineInfo;
        } catch (err) {
          // Nothing started (a taken port, a box that will not boot): the machine stays as it was.
          if (rec) await this.writeRecord(m.name, rec);
          else {
            await fs.rm(path.join(this.stateDir(m.name), "machine.json"), { force: true });
            await new MachineIndex(this.hangarHome).remove(this.dir, m.name);
          }
          throw err;
        }
        for (const p of info.ports) if (p.requested && p.host !== p.requested) onOutput(`${m.name}: fixed port collision for ${p.guest} => ${p.requested}. Now on port ${p.host}.`, "stdout");
        if (resume) await fs.rm(savedState, { force: true });
        if (o.signal?.aborted) {
          await this.halt([m.name], true);
          throw new CancelledError(`Bringing up '${m.name}' was cancelled; it is powered off.`);
        }
        result.push({ name: m.name, state: "running", sshPort: info.sshPort, ports: info.ports });
        // A resumed guest kept its files and provisioning; a booted one starts from the box.
        if (!resume) {
          // rsync-type folders are copies, as with Vagrant; the others are the host folder itself (9p).
          const copies = m.syncedFolders.filter((x) => !x.disabled && x.type === "rsync");
          const firstUp = aborted || !rec?.provisioned;
          const provisionNow = o.provision !== false && m.provisioners.length > 0 && (firstUp || o.provision === true || m.provisioners.some((p) => p.run === "always"));
          // An SSH handshake costs about a second of emulated crypto: open one only when there is work for it.
          if (copies.length || provisionNow) {
            const session = await MachineSession.open(info.sshPort, path.join(this.stateDir(m.name), "private_key"));
            try {
              const owner = copies.length ? await guestOwner(session, await this.sshUser(m, box.dir)) : undefined;
              for (const f of copies) {
                progress(0.9, `${m.name}: copying ${f.hostPath} to ${f.guestPath}`);
                await uploadFolder(f, this.dir, session, this.options.syncExcludes ?? [], owner);
              }
              if (provisionNow) await runProvisioners(m, this.dir, session, { firstUp: firstUp || o.provision === true, onLine: onOutput });
            } finally {
              session.close();
            }
          }
          const now = (await this.record(m.name))!;
          await this.writeRecord(m.name, { ...now, provisioned: true });
        }
      }
      return result;
    } finally {
      daemon.client.close();
    }
  }

  /**
   * The host ports a machine asks for: its SSH endpoint (Vagrant's "ssh"
   * forward: 2222 and up, auto-corrected; a forwarded_port with id "ssh"
   * replaces it) and its forwarded ports, on 127.0.0.1 unless host_ip says
   * otherwise. UDP is not forwarded (the emulator's network stack relays TCP).
   */
  private forwards(m: MachineConfig, onOutput: (line: string, stream: "stdout" | "stderr") => void = () => undefined): PortForward[] {
    const base = this.options.sshPortBase ?? 2222;
    const own = m.forwardedPorts.find((f) => f.id === "ssh");
    const out: PortForward[] = [{ id: "ssh", guest: 22, host: own?.host ?? base, hostIp: own?.hostIp ?? "127.0.0.1", autoCorrect: own ? own.autoCorrect : true, range: base === 2222 ? USABLE_PORT_RANGE : [base, base + 50] }];
    for (const f of m.forwardedPorts) {
      if (f.id === "ssh") continue;
      if (f.protocol === "udp") {
        onOutput(`${m.name}: UDP port ${f.guest} is not forwarded (the embedded network relays TCP only).`, "stderr");
        continue;
      }
      out.push({ id: f.id, guest: f.guest, host: f.host, hostIp: f.hostIp || "127.0.0.1", autoCorrect: f.autoCorrect });
    }
    return out;
  }

  /** Synced folders the guest sees through 9p: every enabled one but rsync copies; a missing host folder is an error before anything starts. */
  private async mountedFolders(m: MachineConfig): Promise<Array<{ hostPath: string; guestPath: string }>> {
    const out: Array<{ hostPath: string; guestPath: string }> = [];
    for (const f of m.syncedFolders.filter((x) => !x.disabled && x.type !== "rsync")) {
      const hostPath = path.resolve(this.dir, f.hostPath);
      const st = await fs.stat(hostPath).catch(() => undefined);
      if (!st?.isDirectory()) throw new HangarError(`Machine '${m.name}': the synced folder ${f.hostPath} (${hostPath}) is not a folder on this computer.`, "Create it, or fix or disable the config.vm.synced_folder line.");
      out.push({ hostPath, guestPath: f.guestPath });
    }
    return out;
  }

  /** `hangar provision`: runs provisioners on running machines (`only`: --provision-with). */
  async provision(names: string[], only: string[], onOutput: (line: string, stream: "stdout" | "stderr") => void): Promise<void> {
    for (const m of await this.select(names)) {
      const target = await this.sshTarget(m.name);
      const session = await MachineSession.open(target.port, target.keyFile);
      try {
        await runProvisioners(m, this.dir, session, { firstUp: true, explicit: true, only, onLine: onOutput });
      } finally {
        session.close();
      }
    }
  }

  private snapshotDir(name: string): string {
    return path.join(this.stateDir(name), "snapshots");
  }

  /** Snapshot names, oldest first. */
  async snapshots(name: string): Promise<Array<{ name: string; createdAt: string; bytes: number }>> {
    const dir = this.snapshotDir(name);
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".state"));
    const out = await Promise.all(files.map(async (f) => ({ name: f.slice(0, -".state".length), st: await fs.stat(path.join(dir, f)) })));
    return out.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs).map((x) => ({ name: x.name, createdAt: x.st.mtime.toISOString(), bytes: x.st.size }));
  }

  /** Saves the running machine's whole state as a named snapshot; the machine keeps running. */
  async snapshotSave(name: string, snapshot: string): Promise<void> {
    if (!/^[\w.-]+$/.test(snapshot)) throw new HangarError(`Snapshot names use letters, digits, '.', '_' and '-' ('${snapshot}' does not).`);
    const daemon = await this.running(false);
    try {
      if (!daemon?.list.some((i) => i.key === this.key(name))) throw new HangarError(`Machine '${name}' is not running; start it to take a snapshot.`);
      await fs.mkdir(this.snapshotDir(name), { recursive: true });
      await daemon.client.call("save", { key: this.key(name), stateFile: path.join(this.snapshotDir(name), `${snapshot}.state`) });
    } finally {
      daemon?.client.close();
    }
  }

  /** Brings the machine back to a snapshot (it runs afterwards, as with Vagrant). */
  async snapshotRestore(name: string, snapshot: string, progress: Progress = () => undefined): Promise<void> {
    const file = path.join(this.snapshotDir(name), `${snapshot}.state`);
    if (!(await exists(file))) throw new HangarError(`Machine '${name}' has no snapshot '${snapshot}' (it has: ${(await this.snapshots(name)).map((s) => s.name).join(", ") || "none"}).`);
    const rec = await this.record(name);
    if (!rec) throw new HangarError(`Machine '${name}' is not created.`);
    const [m] = await this.select([name]);
    const daemon = (await this.running(true))!;
    try {
      if (daemon.list.some((i) => i.key === this.key(name))) await daemon.client.call("halt", { key: this.key(name) });
      await this.writeRecord(name, { ...rec, state: "running" });
      await daemon.client.call("up", { key: this.key(name), boxDir: rec.boxDir, memoryMiB: m.memory ?? this.options.defaultMemoryMiB ?? 256, keyFile: path.join(this.stateDir(name), "private_key"), hostname: null, syncedFolders: await this.mountedFolders(m), diskDir: path.join(this.stateDir(name), "disk"), forwards: this.forwards(m), resumeFrom: file }, progress);
    } finally {
      daemon.client.close();
    }
  }

  async snapshotDelete(name: string, snapshot: string): Promise<void> {
    const file = path.join(this.snapshotDir(name), `${snapshot}.state`);
    if (!(await exists(file))) throw new HangarError(`Machine '${name}' has no snapshot '${snapshot}'.`);
    await fs.rm(file);
  }

  /**
   * `box package`: a .box of the machine as it is now — the box's files plus
   * the machine's running state as the new box's booted state, so machines
   * made from it start provisioned. The box's bootstrap key is put back into
   * the guest first, so new machines can log in and install their own.
   */
  async package(name: string, out: string): Promise<void> {
    const rec = await this.record(name);
    const target = await this.sshTarget(name);
    const box = await EmbeddedBox.open(rec!.boxDir);
    const bootstrapPub = /hangar\.key=(\S+)/.exec(box.metadata.cmdline)?.[1];
    if (!bootstrapPub) throw new HangarError(`The box at ${box.dir} has no bootstrap key on its command line; it cannot be repackaged.`);
    const session = await MachineSession.open(target.port, target.keyFile);
    try {
      const r = await session.run(`echo ${bootstrapPub} | base64 -d >> /root/.ssh/authorized_keys && sync`);
      if (r.code !== 0) throw new HangarError(`Preparing machine '${name}' for packaging failed: ${r.stderr.trim()}`);
    } finally {
      session.close();
    }
    const [m] = await this.select([name]);
    const staging = path.join(this.stateDir(name), "package");
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(staging, { recursive: true });
    try {
      const stateName = path.basename(box.bootedStateFile(m.memory ?? this.options.defaultMemoryMiB ?? 256, product.v86Version));
      const daemon = (await this.running(false))!;
      try {
        await daemon.client.call("save", { key: this.key(name), stateFile: path.join(staging, stateName), compress: false });
      } finally {
        daemon.client.close();
      }
      const files = ["metadata.json", box.metadata.kernel, box.metadata.initrd, box.metadata.bios, box.metadata.vgaBios, box.metadata.bootstrapKey];
      for (const f of files) await fs.copyFile(path.join(box.dir, f), path.join(staging, f));
      await writeBoxFile(staging, [...files, stateName], path.resolve(this.dir, out));
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** `halt`; `force` powers off without keeping the guest's files (Vagrant's halt -f). */
  async halt(names: string[], force = false): Promise<void> {
    const machines = await this.select(names);
    const daemon = await this.running(false);
    try {
      for (const m of machines) {
        const rec = await this.record(m.name);
        if (!rec) continue;
        let persisted = true;
        if (daemon?.list.some((i) => i.key === this.key(m.name))) {
          const r = (await daemon.client.call("halt", { key: this.key(m.name), persist: !force })) as { persisted: boolean };
          persisted = r.persisted;
        }
        await fs.rm(path.join(this.stateDir(m.name), "saved.state"), { force: true });
        // The guest's root is in memory; halt keeps its changes on the machine's disk (disk/rootfs.cpio).
        // A forced halt, or a guest that could not write it, loses them: the next up starts from the box and provisions again.
        await this.writeRecord(m.name, { ...rec, state: "poweroff", provisioned: persisted && rec.provisioned });
      }
    } finally {
      daemon?.client.close();
    }
  }

  async suspend(names: string[]): Promise<void> {
    const machines = await this.select(names);
    const daemon = await this.running(false);
    try {
      for (const m of machines) {
        if (!daemon?.list.some((i) => i.key === this.key(m.name))) throw new HangarError(`Machine '${m.name}' is not running, so it cannot be suspended.`);
        await this.suspendOne(daemon.client, m.name);
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
    const daemon = await this.running(false);
    if (!daemon) return [];
    try {
      const prefix = `${this.dir}#`;
      const names = daemon.list.filter((i) => i.key.startsWith(prefix)).map((i) => i.key.slice(prefix.length));
      for (const name of names) await this.suspendOne(daemon.client, name);
      return names;
    } finally {
      daemon.client.close();
    }
  }

  private async suspendOne(client: DaemonClient, name: string): Promise<void> {
    const rec = await this.record(name);
    if (!rec) throw new HangarError(`Machine '${name}' has no state in ${this.stateDir(name)}; it cannot be suspended.`);
    await client.call("suspend", { key: this.key(name), stateFile: path.join(this.stateDir(name), "saved.state") });
    await this.writeRecord(name, { ...rec, state: "saved" });
  }

  async destroy(names: string[]): Promise<void> {
    await this.halt(names, true);
    for (const m of await this.select(names)) {
      await fs.rm(this.stateDir(m.name), { recursive: true, force: true });
      await new MachineIndex(this.hangarHome).remove(this.dir, m.name);
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
    const key = this.key(name);
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

  /**
   * `rsync` / `rsync-auto`: copies the machine's rsync-type synced folders
   * into it now, then (with `follow`) keeps following host changes until the
   * returned `stop`. Returns the folders synced.
   */
  async syncFolders(name: string, o: { follow?: boolean; onBatch?(folder: string, batch: SyncBatch): void; onError?(err: Error): void } = {}): Promise<{ folders: string[]; stop(): Promise<void> }> {
    const [m] = await this.select([name]);
    const folders = m.syncedFolders.filter((f) => !f.disabled && f.type === "rsync");
    if (!folders.length) throw new HangarError(`Machine '${name}' has no rsync-type synced folder (its other synced folders are the host folders themselves and need no syncing).`, 'Use config.vm.synced_folder ".", "/vagrant", type: "rsync" for a copy.');
    const target = await this.sshTarget(name);
    const session = await MachineSession.open(target.port, target.keyFile);
    const syncs: FolderSync[] = [];
    try {
      const owner = await guestOwner(session, target.user);
      for (const f of folders) {
        await uploadFolder(f, this.dir, session, this.options.syncExcludes ?? [], owner);
        if (!o.follow) continue;
        const sync = new FolderSync(session, { hostPath: path.resolve(this.dir, f.hostPath), guestPath: f.guestPath, excludes: [...f.exclude, ...(this.options.syncExcludes ?? [])], owner, onBatch: (b) => o.onBatch?.(f.guestPath, b), onError: o.onError });
        await sync.start();
        syncs.push(sync);
      }
    } catch (err) {
      await Promise.all(syncs.map((s) => s.stop()));
      session.close();
      throw err;
    }
    const stop = async (): Promise<void> => {
      await Promise.all(syncs.map((s) => s.stop()));
      session.close();
    };
    if (!o.follow) await stop();
    return { folders: folders.map((f) => `${f.hostPath} → ${f.guestPath}`), stop };
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
    const rec = await this.record(name);
    return { port: s.sshPort, keyFile: path.join(this.stateDir(name), "private_key"), user: await this.sshUser(m, rec?.boxDir) };
  }

  private async sshUser(m: MachineConfig, boxDir: string | undefined): Promise<string> {
    if (typeof m.ssh.username === "string") return m.ssh.username;
    const boxUser = boxDir ? await EmbeddedBox.open(boxDir).then((b) => b.metadata.sshUser, () => undefined) : undefined;
    return boxUser ?? "root";
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
