import { randomBytes } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import type { ImageContainerConfig, ImageStore } from "../images/image-store";
import type { EngineMachine } from "../machine/engine-machine";
import type { NetworkRecord, NetworkStore } from "../networks/network-store";
import type { ContainerMounts, MountPoint } from "./container-mounts";
import { containerName, VALID_CONTAINER_NAME } from "./container-names";
import { CapabilityError, confinementOf } from "../runtime/container-confinement";
import { ContainerNetworking, type EndpointSettings, type NetworkHostConfig, type NetworkSettings } from "./container-networking";
import { ContainerStdio } from "./container-stdio";
import { execProbeRunner, HealthMonitor, healthcheckError, mergeHealthcheck, type Health, type HealthConfig } from "./container-health";
import { restartPolicyError, restartsWithEngine, RestartTimers, shouldRestart } from "./container-restart";

/** No container answers to the reference (API: 404). */
export class ContainerNotFoundError extends HangarError {
  constructor(readonly ref: string) {
    super(`No such container: ${ref}`);
  }
}
/** The container's state forbids the operation, or a name is taken (API: 409). */
export class ContainerConflictError extends HangarError {}
/** A request the engine cannot take as given (API: 400). */
export class ContainerInvalidError extends HangarError {}

export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Present once a container with a health check has started (container-health.ts). */
  Health?: Health;
}

export interface ContainerHostConfig extends NetworkHostConfig {
  AutoRemove?: boolean;
  Memory?: number;
  NanoCpus?: number;
  PidsLimit?: number | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  CapAdd?: string[] | null;
  GroupAdd?: string[] | null;
  CapDrop?: string[] | null;
  Privileged?: boolean;
  SecurityOpt?: string[] | null;
  [key: string]: unknown;
}

export interface ContainerConfig extends ImageContainerConfig {
  Hostname?: string;
  Image: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Healthcheck?: HealthConfig | null;
  [key: string]: unknown;
}

/** What `docker inspect` shows of a container (Docker's ContainerJSON, the fields Hangar keeps). */
export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  LogPath: string;
  HostConfig: ContainerHostConfig;
  Config: ContainerConfig;
  Mounts: MountPoint[];
  NetworkSettings: NetworkSettings;
  /** Stopped or killed by a client: no restart policy applies until a client starts it (dockerd keeps it in config.v2.json, not in inspect). */
  HasBeenManuallyStopped?: boolean;
}

/** One line of output: 1 stdout, 2 stderr (the stream numbers of Docker's multiplexed framing). */
export interface OutputChunk {
  stream: 1 | 2;
  data: Buffer;
  time: string;
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * Docker's containers on the engine machine: records under
 * HANGAR_HOME/engine/containers/<id>/ (config.v2.json, written atomically;
 * the json-file log beside it), processes run by the guest runtime. A
 * container that was running when the engine stopped is "exited" next time
 * (the machine's processes are gone), as after a Docker daemon restart.
 */
export class ContainerEngine {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly exits = new Map<string, Promise<number>>();
  private readonly outputListeners = new Map<string, Set<(chunk: OutputChunk) => void>>();
  private readonly removedListeners = new Map<string, Set<() => void>>();
  readonly networking: ContainerNetworking;
  /** Stdin (-i) and terminal (-t) of running containers, for attach and resize. */
  readonly stdio = new ContainerStdio();
  private readonly health: HealthMonitor;
  private readonly restarts = new RestartTimers();
  /** The engine is stopping: exits now are not stops by hand, and restart nothing. */
  private shuttingDown = false;

  private constructor(
    private readonly root: string,
    private readonly images: ImageStore,
    private readonly machine: EngineMachine,
    private readonly onEvent: (action: string, record: ContainerRecord, extra?: Record<string, string>) => void,
    networks: NetworkStore,
    /** Volumes, bind mounts and tmpfs (container-mounts.ts); without it, containers get no mounts. */
    private readonly mounts?: ContainerMounts,
  ) {
    // (a restarting container has no process, so no address, until its restart)
    this.networking = new ContainerNetworking(networks, () => [...this.records.values()].filter((r) => r.State.Running && !r.State.Restarting));
    this.health = new HealthMonitor(execProbeRunner(machine), (c, status) => {
      const record = this.records.get(c.Id);
      if (!record) return;
      void this.save(record).catch(() => undefined);
      this.onEvent(`health_status: ${status}`, record);
    });
  }

  static async open(hangarHome: string, images: ImageStore, machine: EngineMachine, onEvent: ContainerEngine["onEvent"], networks: NetworkStore, mounts?: ContainerMounts): Promise<ContainerEngine> {
    const root = path.join(hangarHome, "engine", "containers");
    await fs.mkdir(root, { recursive: true });
    const engine = new ContainerEngine(root, images, machine, onEvent, networks, mounts);
    for (const id of await fs.readdir(root)) {
      const record = JSON.parse(await fs.readFile(path.join(root, id, "config.v2.json"), "utf8").catch(() => "null")) as ContainerRecord | null;
      if (!record) continue;
      if (record.State.Running) {
        record.State = {
          ...record.State,
          Status: "exited",
          Running: false,
          Paused: false,
          Restarting: false,
          Pid: 0,
          ExitCode: 255,
          Error: "the engine stopped while it ran",
          FinishedAt: new Date().toISOString(),
        };
        await engine.networking.release(record);
        await engine.save(record);
      }
      engine.records.set(record.Id, record);
    }
    return engine;
  }

  /**
   * The engine has started: containers whose restart policy says so start
   * again (container-restart.ts), as dockerd's restore starts them (as a
   * client's start: counts and delays from zero). Returns once
   * each has started or failed to (failures are logged, never thrown).
   */
  async restartWithEngine(log?: (line: string) => void): Promise<void> {
    for (const r of this.list()) {
      if (r.State.Running || r.State.Status === "created" || r.HostConfig.AutoRemove) continue;
      if (!restartsWithEngine(r.HostConfig.RestartPolicy, r.State.ExitCode, r.HasBeenManuallyStopped === true)) continue;
      await this.start(r.Id).catch((err: unknown) =>
        log?.(`restarting container ${r.Id.slice(0, 12)} (${r.HostConfig.RestartPolicy?.Name}) failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }

  list(): ContainerRecord[] {
    return [...this.records.values()].sort((a, b) => b.Created.localeCompare(a.Created));
  }

  /** By full ID, unique ID prefix, or name (with or without the leading "/"). */
  get(ref: string): ContainerRecord {
    const byName = [...this.records.values()].find((r) => r.Name === `/${ref.replace(/^\//, "")}`);
    if (byName) return byName;
    const exact = this.records.get(ref);
    if (exact) return exact;
    const matches = /^[0-9a-f]+$/.test(ref) ? [...this.records.keys()].filter((id) => id.startsWith(ref)) : [];
    if (matches.length > 1) throw new ContainerInvalidError(`Multiple IDs found with provided prefix: ${ref}`);
    if (!matches.length) throw new ContainerNotFoundError(ref);
    return this.records.get(matches[0])!;
  }

  /** Whether a container (any state) uses the image: image removal asks this. */
  usesImage(imageId: string): { container: string; running: boolean } | undefined {
    const r = [...this.records.values()].find((x) => x.Image === imageId);
    return r ? { container: r.Id, running: r.State.Running } : undefined;
  }

  async create(config: ContainerConfig, hostConfig: ContainerHostConfig, name?: string, endpoints?: Record<string, Partial<EndpointSettings>>): Promise<ContainerRecord> {
    if (!config.Image) throw new ContainerInvalidError("No image was given for the container.");
    if (name !== undefined && name !== "") {
      if (!VALID_CONTAINER_NAME.test(name)) throw new ContainerInvalidError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      const existing = [...this.records.values()].find((r) => r.Name === `/${name.replace(/^\//, "")}`);
      if (existing)
        throw new ContainerConflictError(
          `Conflict. The container name "/${name.replace(/^\//, "")}" is already in use by container "${existing.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
        );
    }
    if (hostConfig.GroupAdd?.length)
      throw new ContainerInvalidError("Hangar's engine does not support --group-add yet.", "Add the user to the group in the image's /etc/group instead: its groups are given as Docker gives them.");
    const restartError = restartPolicyError(hostConfig.RestartPolicy, hostConfig.AutoRemove === true);
    if (restartError) throw new ContainerInvalidError(restartError);
    const healthError = healthcheckError(config.Healthcheck);
    if (healthError) throw new ContainerInvalidError(healthError);
    // Capabilities and security options are checked when the container is made, as Docker does (an unknown one is refused).
    try {
      confinementOf(hostConfig);
    } catch (err) {
      if (err instanceof CapabilityError) throw new ContainerInvalidError(err.message);
      throw err;
    }
    const image = await this.images.image(config.Image);
    const imageConfig = image.config.config ?? {};
    const entrypoint = config.Entrypoint !== undefined && config.Entrypoint !== null ? config.Entrypoint : (imageConfig.Entrypoint ?? []);
    // Docker: a given entrypoint drops the image's CMD unless a command is given too.
    const cmd = config.Cmd && config.Cmd.length ? config.Cmd : config.Entrypoint !== undefined && config.Entrypoint !== null ? [] : (imageConfig.Cmd ?? []);
    const argv = [...entrypoint, ...cmd];
    if (!argv.length) throw new ContainerInvalidError("No command specified: the image has no CMD or ENTRYPOINT and none was given.");
    const id = randomBytes(32).toString("hex");
    const env = mergeEnv(imageConfig.Env ?? [], config.Env ?? []);
    // Docker exposes the image's ports, the given ones, and every published one.
    const exposed: Record<string, object> = { ...(imageConfig.ExposedPorts ?? {}), ...((config.ExposedPorts as Record<string, object> | undefined) ?? {}) };
    for (const key of Object.keys(hostConfig.PortBindings ?? {})) exposed[key.includes("/") ? key : `${key}/tcp`] = {};
    const networkSettings = this.networking.initialSettings(hostConfig, endpoints, exposed);
    const record: ContainerRecord = {
      Id: id,
      Created: new Date().toISOString(),
      Path: argv[0],
      Args: argv.slice(1),
      State: { Status: "created", Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: "", StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      Image: image.id,
      Name: `/${name ? name.replace(/^\//, "") : containerName((n) => [...this.records.values()].some((r) => r.Name === `/${n}`))}`,
      RestartCount: 0,
      Driver: "overlay2",
      Platform: "linux",
      LogPath: path.join(this.root, id, `${id}-json.log`),
      HostConfig: hostConfig,
      Config: {
        ...config,
        Image: config.Image,
        Hostname: config.Hostname || id.slice(0, 12),
        Env: env,
        Cmd: cmd,
        Entrypoint: entrypoint.length ? entrypoint : null,
        WorkingDir: config.WorkingDir || imageConfig.WorkingDir || "",
        User: config.User || imageConfig.User || "",
        Labels: { ...(imageConfig.Labels ?? {}), ...((config.Labels as Record<string, string> | undefined) ?? {}) },
        // As dockerd merges them: the image's HEALTHCHECK under the given one, field by field, and its SHELL (which CMD-SHELL probes run in).
        Healthcheck: mergeHealthcheck(imageConfig.Healthcheck as HealthConfig | null | undefined, config.Healthcheck),
        ...(config.Shell || imageConfig.Shell ? { Shell: config.Shell ?? imageConfig.Shell } : {}),
      },
      Mounts: [],
      NetworkSettings: networkSettings,
    };
    if (!record.Config.Healthcheck) delete record.Config.Healthcheck;
    if (Object.keys(exposed).length) record.Config.ExposedPorts = exposed;
    record.Mounts = (await this.mounts?.prepare(config, hostConfig, imageConfig.Volumes)) ?? [];
    await fs.mkdir(path.join(this.root, id), { recursive: true });
    await this.save(record);
    this.records.set(id, record);
    this.onEvent("create", record);
    return record;
  }

  /** A client's start: the restart policy applies again, its count and delays from zero (as dockerd resets its restart manager). */
  async start(ref: string): Promise<"started" | "already"> {
    const record = this.get(ref);
    if (record.State.Running) return "already";
    record.HasBeenManuallyStopped = false;
    record.RestartCount = 0;
    this.restarts.reset(record.Id);
    await this.run(record);
    return "started";
  }

  /** Starts the container's process (a client's start, a restart by policy, or the engine's restore). */
  private async run(record: ContainerRecord): Promise<void> {
    const mounts = await this.mounts?.guestMounts(record.Config, record.HostConfig, record.Mounts);
    const runtime = await this.machine.runtime();
    const hc = record.HostConfig;
    // Addresses and host ports first: a taken port fails the start before anything runs.
    const network = await this.networking.prepare(record, (ip, port) => runtime.connect(ip, port));
    const log = await fs.open(record.LogPath, "a");
    record.State = {
      ...record.State,
      Status: "running",
      Running: true,
      Restarting: false,
      Pid: 1,
      ExitCode: 0,
      Error: "",
      OOMKilled: false,
      StartedAt: new Date().toISOString(),
      FinishedAt: ZERO_TIME,
    };
    await this.save(record);
    const emit = (stream: 1 | 2) => (data: Buffer) => {
      const time = new Date().toISOString();
      void log.write(`${JSON.stringify({ log: data.toString("utf8"), stream: stream === 1 ? "stdout" : "stderr", time })}\n`);
      for (const l of this.outputListeners.get(record.Id) ?? []) l({ stream, data, time });
    };
    // Host edits under its bind mounts reach the container's file watchers while it runs.
    // It starts once the engine machine holds their folders: a watch made before that could land on an inode 9p then forgets.
    const watching = ((await this.mounts?.watchedBinds(record.Mounts)) ?? []).map((b) => this.machine.watchFolder(b.hostPath, b.guestPath));
    await Promise.all(watching.map((w) => w.ready));
    let markStarted = (): void => undefined;
    let ended = false;
    const processStarted = new Promise<void>((resolve) => (markStarted = resolve));
    const exit = runtime
      .run(
        {
          id: record.Id,
          imageId: record.Image,
          argv: [record.Path, ...record.Args],
          env: record.Config.Env ?? [],
          workingDir: record.Config.WorkingDir || "/",
          hostname: record.Config.Hostname,
          memoryBytes: hc.Memory || undefined,
          pidsLimit: hc.PidsLimit ?? undefined,
          cpus: hc.NanoCpus ? hc.NanoCpus / 1e9 : undefined,
          removeAfter: hc.AutoRemove === true,
          network,
          mounts,
          user: record.Config.User || undefined,
          tty: record.Config.Tty ? this.stdio.initialSize(record.Id, hc.ConsoleSize) : undefined,
          confinement: confinementOf(hc),
        },
        {
          onStdout: emit(1),
          onStderr: emit(2),
          // StartedAt is when the process exists, as dockerd records it (health checks' start period counts from it).
          onStarted: () => {
            if (!ended) record.State.StartedAt = new Date().toISOString();
            markStarted();
          },
          stdin: record.Config.OpenStdin ? this.stdio.stdin(record.Id) : undefined,
          onResizable: (resize) => this.stdio.resizable(record.Id, resize),
        },
      )
      .catch((err: unknown) => {
        record.State.Error = err instanceof Error ? err.message : String(err);
        emit(2)(Buffer.from(`${record.State.Error}\n`));
        return 127;
      });
    this.onEvent("start", record);
    // Settles once the exit is recorded (state, log closed), which is what waiters need to see.
    const settled = exit.then(async (code) => {
      ended = true;
      this.health.stop(record.Id);
      for (const w of watching) w.stop();
      await log.close();
      await this.networking.release(record);
      await this.updatePeers(record);
      this.stdio.ended(record.Id);
      const finishedAt = new Date().toISOString();
      const again =
        !hc.AutoRemove && !this.shuttingDown && this.records.has(record.Id) && !record.State.Dead && shouldRestart(hc.RestartPolicy, code, record.HasBeenManuallyStopped === true, record.RestartCount);
      // Waiting to restart, the container counts as running (as in dockerd), without a process.
      record.State = again
        ? { ...record.State, Status: "restarting", Running: true, Restarting: true, Paused: false, Pid: 0, ExitCode: code, OOMKilled: code === 137 && !!hc.Memory, FinishedAt: finishedAt }
        : { ...record.State, Status: "exited", Running: false, Restarting: false, Paused: false, Pid: 0, ExitCode: code, OOMKilled: code === 137 && !!hc.Memory, FinishedAt: finishedAt };
      if (again) record.RestartCount++;
      this.exits.delete(record.Id);
      await this.save(record).catch(() => undefined);
      this.onEvent("die", record, { exitCode: String(code) });
      for (const l of this.outputListeners.get(record.Id) ?? []) l({ stream: 1, data: Buffer.alloc(0), time: "" });
      this.outputListeners.delete(record.Id);
      if (hc.AutoRemove) await this.remove(record.Id, { force: true, guestDone: true }).catch(() => undefined);
      else if (again) this.restarts.schedule(record.Id, Date.parse(finishedAt) - Date.parse(record.State.StartedAt), () => void this.restartNow(record));
      return code;
    });
    this.exits.set(record.Id, settled);
    // As Docker's start: back once the process runs (or has already ended).
    await Promise.race([processStarted, exit]);
    // Probes begin once the process exists (an exec before that finds no container to enter).
    if (!ended) {
      await this.save(record).catch(() => undefined);
      this.health.started(record);
    }
    if (record.State.Running) await this.updatePeers(record);
  }

  /** A restart by policy, its delay over: a start that fails leaves the container exited with the error (as dockerd). */
  private async restartNow(record: ContainerRecord): Promise<void> {
    if (!this.records.has(record.Id) || !record.State.Restarting) return;
    try {
      await this.run(record);
    } catch (err) {
      record.State = { ...record.State, Status: "exited", Running: false, Restarting: false, Error: err instanceof Error ? err.message : String(err) };
      await this.save(record).catch(() => undefined);
    }
  }

  /** A pending restart is called off (stop, kill or removal while the container waits to restart): it is exited now. */
  private async cancelRestart(record: ContainerRecord): Promise<boolean> {
    if (!record.State.Restarting) return false;
    this.restarts.cancel(record.Id);
    record.State = { ...record.State, Status: "exited", Running: false, Restarting: false };
    await this.save(record);
    return true;
  }

  /** Containers sharing a user-defined network with one that came or went see it in their /etc/hosts (Docker's DNS, as a file). */
  private async updatePeers(changed: ContainerRecord): Promise<void> {
    if (!this.machine.running) return;
    const runtime = await this.machine.runtime();
    for (const peer of this.networking.peersOf(changed)) await runtime.writeHosts(peer.id, peer.hosts).catch(() => undefined);
  }

  /** `docker network connect`: recorded, and plugged in at once when the container runs. */
  async connect(ref: string, network: NetworkRecord, endpoint: Partial<EndpointSettings>): Promise<void> {
    const record = this.get(ref);
    const iface = this.networking.connect(record, network, endpoint);
    if (iface) {
      try {
        await (await this.machine.runtime()).plug(record.Id, iface);
      } catch (err) {
        this.networking.disconnect(record, network);
        throw err;
      }
      await this.updateHosts(record);
    }
    await this.save(record);
  }

  /** `docker network disconnect`. */
  async disconnect(ref: string, network: NetworkRecord): Promise<void> {
    const record = this.get(ref);
    const peers = this.networking.peersOf(record).map((p) => p.id);
    const ip = this.networking.disconnect(record, network);
    if (ip) {
      const runtime = await this.machine.runtime();
      await runtime.unplug(record.Id, ip);
      await runtime.writeHosts(record.Id, this.networking.hostsOf(record));
      // Its former peers forget it too.
      for (const id of peers) await runtime.writeHosts(id, this.networking.hostsOf(this.records.get(id)!)).catch(() => undefined);
    }
    await this.save(record);
  }

  /** After a running container's networks change: its own /etc/hosts and its peers'. */
  private async updateHosts(record: ContainerRecord): Promise<void> {
    await (await this.machine.runtime()).writeHosts(record.Id, this.networking.hostsOf(record));
    await this.updatePeers(record);
  }

  /** The engine is stopping: every running container is killed and its exit recorded (none is restarted now; their policies apply when the engine starts again). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.restarts.cancelAll();
    for (const r of [...this.records.values()].filter((x) => x.State.Restarting)) await this.cancelRestart(r).catch(() => undefined);
    for (const r of [...this.records.values()].filter((x) => x.State.Running)) await this.kill(r.Id, "KILL").catch(() => undefined);
    await Promise.all([...this.exits.values()].map((e) => e.catch(() => undefined)));
  }

  /** Which running container uses a network (it cannot be removed then). */
  usingNetwork(networkId: string): ContainerRecord | undefined {
    return [...this.records.values()].find((r) => r.State.Running && Object.values(r.NetworkSettings.Networks).some((e) => e.NetworkID === networkId));
  }

  /** Resolves with the exit status once the container is not running (condition "not-running"), or after its next exit ("next-exit"), or once it is removed ("removed"). */
  async wait(ref: string, condition = "not-running"): Promise<number> {
    const record = this.get(ref);
    if (condition === "removed") {
      await new Promise<void>((resolve) => {
        if (!this.records.has(record.Id)) return resolve();
        const set = this.removedListeners.get(record.Id) ?? new Set();
        set.add(resolve);
        this.removedListeners.set(record.Id, set);
      });
      return record.State.ExitCode;
    }
    if (condition === "next-exit" && !record.State.Running) {
      // Wait for the start that follows, then its end.
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          if (this.exits.has(record.Id) || !this.records.has(record.Id)) {
            clearInterval(tick);
            resolve();
          }
        }, 20);
      });
    }
    const exit = this.exits.get(record.Id);
    if (exit) return exit;
    return record.State.ExitCode;
  }

  /** Calls `listener` with each new chunk of output until the container exits (an empty chunk then) or the returned function is called. */
  follow(ref: string, listener: (chunk: OutputChunk) => void): () => void {
    const record = this.get(ref);
    const set = this.outputListeners.get(record.Id) ?? new Set();
    set.add(listener);
    this.outputListeners.set(record.Id, set);
    return () => set.delete(listener);
  }

  /** The json-file log's chunks, oldest first (the last `tail` when given). */
  async logs(ref: string, tail?: number): Promise<OutputChunk[]> {
    const record = this.get(ref);
    const chunks: OutputChunk[] = [];
    try {
      const lines = readline.createInterface({ input: createReadStream(record.LogPath), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line) continue;
        const entry = JSON.parse(line) as { log: string; stream: string; time: string };
        chunks.push({ stream: entry.stream === "stderr" ? 2 : 1, data: Buffer.from(entry.log), time: entry.time });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return tail !== undefined && tail >= 0 ? chunks.slice(Math.max(0, chunks.length - tail)) : chunks;
  }

  async kill(ref: string, signal = "KILL"): Promise<void> {
    const record = this.get(ref);
    if (!record.State.Running) throw new ContainerConflictError(`Container ${record.Id} is not running`);
    await this.stoppedByHand(record);
    if (await this.cancelRestart(record)) return;
    if (record.State.Paused) await this.pause(record.Id, false);
    await (await this.machine.runtime()).kill(record.Id, signal);
    this.onEvent("kill", record, { signal });
  }

  /** `docker stop`: the image's stop signal (TERM), then KILL after `timeoutSec`. */
  async stop(ref: string, timeoutSec = 10, signal?: string): Promise<"stopped" | "already"> {
    const record = this.get(ref);
    if (!record.State.Running) return "already";
    await this.stoppedByHand(record);
    if (await this.cancelRestart(record)) {
      this.onEvent("stop", record);
      return "stopped";
    }
    if (record.State.Paused) await this.pause(record.Id, false);
    const runtime = await this.machine.runtime();
    const exit = this.exits.get(record.Id);
    await runtime.kill(record.Id, signal || record.Config.StopSignal || "TERM");
    const ended = await Promise.race([exit?.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, timeoutSec) * 1000))]);
    if (!ended) await runtime.kill(record.Id, "KILL");
    await this.wait(record.Id);
    this.onEvent("stop", record);
    return "stopped";
  }

  /** guestDone: the run script already deleted the container's files in the engine machine (--rm). */
  async remove(ref: string, o: { force?: boolean; guestDone?: boolean; volumes?: boolean } = {}): Promise<void> {
    const record = this.get(ref);
    if (record.State.Running) {
      if (!o.force) throw new ContainerConflictError(`You cannot remove a running container ${record.Id}. Stop the container before attempting removal or force remove`);
      await this.stoppedByHand(record);
      if (!(await this.cancelRestart(record))) {
        if (record.State.Paused) await this.pause(record.Id, false);
        await (await this.machine.runtime()).kill(record.Id, "KILL");
        await this.wait(record.Id);
      }
    }
    this.restarts.reset(record.Id);
    this.health.stop(record.Id);
    if (!this.records.has(record.Id)) return; // auto-removed meanwhile
    this.records.delete(record.Id);
    this.stdio.removed(record.Id);
    if (this.machine.running && !o.guestDone) await (await this.machine.runtime()).remove(record.Id).catch(() => undefined);
    await fs.rm(path.join(this.root, record.Id), { recursive: true, force: true });
    // `rm -v`, and --rm (as Docker's): the container's anonymous volumes go with it.
    if (o.volumes || record.HostConfig.AutoRemove) await this.mounts?.removeAnonymous(record.Mounts, this.list());
    this.onEvent("destroy", record);
    for (const l of this.removedListeners.get(record.Id) ?? []) l();
    this.removedListeners.delete(record.Id);
  }

  async pause(ref: string, paused: boolean): Promise<void> {
    const record = this.get(ref);
    if (!record.State.Running) throw new ContainerConflictError(`Container ${record.Id} is not running`);
    if (record.State.Restarting) throw new ContainerConflictError(`Container ${record.Id} is restarting, wait until the container is running`);
    if (record.State.Paused === paused) throw new ContainerConflictError(`Container ${record.Id} is ${paused ? "already paused" : "not paused"}`);
    await (await this.machine.runtime()).freeze(record.Id, paused);
    record.State = { ...record.State, Paused: paused, Status: paused ? "paused" : "running" };
    // As dockerd: no probes while paused; they go on (without a reset) once it runs again.
    if (paused) this.health.stop(record.Id);
    else this.health.resume(record);
    await this.save(record);
    this.onEvent(paused ? "pause" : "unpause", record);
  }

  /** `docker diff`: the container's changes to its image's filesystem. */
  async changes(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
    const record = this.get(ref);
    // The writable layer lives in the engine machine; a container made before it last started has none there.
    if (!this.machine.running && !(await this.machine.hasSavedState())) return [];
    return (await this.machine.runtime()).changes(record.Id, record.Image);
  }

  async rename(ref: string, name: string): Promise<void> {
    const record = this.get(ref);
    if (!VALID_CONTAINER_NAME.test(name)) throw new ContainerInvalidError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if ([...this.records.values()].some((r) => r.Name === `/${name}` && r.Id !== record.Id)) throw new ContainerConflictError(`Conflict. The container name "/${name}" is already in use.`);
    record.Name = `/${name}`;
    await this.save(record);
    this.onEvent("rename", record);
  }

  /** A client stopped or killed the container: its restart policy no longer applies (not when the engine itself stops it). */
  private async stoppedByHand(record: ContainerRecord): Promise<void> {
    if (this.shuttingDown || record.HasBeenManuallyStopped) return;
    record.HasBeenManuallyStopped = true;
    await this.save(record);
  }

  private async save(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(path.join(this.root, record.Id, "config.v2.json"), JSON.stringify(record));
  }
}

/** Image env first, container env overriding by name (as Docker merges them). */
function mergeEnv(image: string[], given: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...given]) out.set(e.split("=")[0], e);
  return [...out.values()];
}
