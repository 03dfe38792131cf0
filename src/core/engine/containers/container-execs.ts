import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { HangarError } from "../../util/errors";
import type { EngineMachine } from "../machine/engine-machine";
import type { ConsoleSize } from "../runtime/container-console";
import { confinementOf } from "../runtime/container-confinement";
import { runExec } from "../runtime/container-exec";
import { ContainerConflictError, ContainerInvalidError, type ContainerEngine } from "./container-engine";

/** No exec instance has the ID (API: 404). */
export class ExecNotFoundError extends HangarError {
  constructor(readonly ref: string) {
    super(`No such exec instance: ${ref}`);
  }
}

/** Docker's ExecConfig, the parts Hangar uses (POST /containers/{id}/exec). */
export interface ExecConfig {
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: number[] | null;
  DetachKeys?: string;
  Privileged?: boolean;
}

/** What `GET /exec/{id}/json` shows (Docker's ExecInspect). */
export interface ExecInspect {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  CanRemove: boolean;
  DetachKeys: string;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
}

interface ExecRecord {
  inspect: ExecInspect;
  config: ExecConfig;
  started: boolean;
  size?: ConsoleSize;
  resize?(size: ConsoleSize): void;
}

export interface ExecIo {
  stdin?: Readable;
  onStdout?(data: Buffer): void;
  onStderr?(data: Buffer): void;
}

const registries = new WeakMap<ContainerEngine, ContainerExecs>();

/**
 * `docker exec` instances: made for a running container, started once (its
 * process runs in the container's namespaces, see container-exec.ts), then
 * kept for inspection of the exit code, in memory as Docker keeps them.
 */
export class ContainerExecs {
  private readonly execs = new Map<string, ExecRecord>();

  private constructor(
    private readonly containers: ContainerEngine,
    private readonly machine: EngineMachine,
  ) {}

  /** The one registry of an engine's containers. */
  static of(containers: ContainerEngine, machine: EngineMachine): ContainerExecs {
    let execs = registries.get(containers);
    if (!execs) {
      execs = new ContainerExecs(containers, machine);
      registries.set(containers, execs);
    }
    return execs;
  }

  create(ref: string, config: ExecConfig): string {
    const record = this.containers.get(ref);
    if (!Array.isArray(config.Cmd) || !config.Cmd.length || !config.Cmd.every((a) => typeof a === "string")) throw new ContainerInvalidError("No exec command specified");
    this.mustRun(record.Id);
    const id = randomBytes(32).toString("hex");
    this.execs.set(id, {
      config,
      started: false,
      inspect: {
        ID: id,
        ContainerID: record.Id,
        Running: false,
        ExitCode: null,
        Pid: 0,
        OpenStdin: config.AttachStdin === true,
        OpenStdout: config.AttachStdout === true,
        OpenStderr: config.AttachStderr === true,
        CanRemove: false,
        DetachKeys: config.DetachKeys ?? "",
        ProcessConfig: { tty: config.Tty === true, entrypoint: config.Cmd[0], arguments: config.Cmd.slice(1), privileged: false, user: config.User ?? "" },
      },
    });
    return id;
  }

  inspect(id: string): ExecInspect {
    return this.get(id).inspect;
  }

  /** Whether the exec has a TTY (its stream is raw then). */
  tty(id: string): boolean {
    return this.get(id).config.Tty === true;
  }

  /**
   * Checks the exec can start now (409 when it ran already or its container
   * does not run); call before answering a hijack, so errors get a status.
   */
  checkStart(id: string): void {
    const exec = this.get(id);
    if (exec.started) throw new ContainerConflictError(`Error: Exec command ${id} has already run`);
    this.mustRun(exec.inspect.ContainerID);
  }

  /**
   * Starts the exec's process. Resolves once it exists, with `exited`: its
   * exit status, recorded (ExitCode, Running false) before that settles.
   */
  async start(id: string, io: ExecIo): Promise<{ exited: Promise<number> }> {
    this.checkStart(id);
    const exec = this.get(id);
    exec.started = true;
    const container = this.containers.get(exec.inspect.ContainerID);
    const cmd = exec.config.Cmd!;
    const tty = exec.config.Tty ? (exec.size ?? consoleSize(exec.config.ConsoleSize)) : undefined;
    const env = new Map<string, string>();
    for (const e of [...(container.Config.Env ?? []), ...(exec.config.Env ?? [])]) env.set(e.split("=")[0], e);
    let started = (): void => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const runtime = await this.machine.runtime();
    const exited = runExec(
      runtime.session,
      {
        containerId: container.Id,
        execId: id,
        argv: cmd,
        env: [...env.values()],
        user: exec.config.User || container.Config.User || "",
        workingDir: exec.config.WorkingDir || container.Config.WorkingDir || "/",
        tty,
        // As Docker: the container's capabilities, or all of them for `docker exec --privileged`.
        confinement: confinementOf({ ...container.HostConfig, Privileged: exec.config.Privileged === true || container.HostConfig.Privileged === true }),
        hostname: container.Config.Hostname || container.Id.slice(0, 12),
      },
      {
        stdin: io.stdin,
        tty,
        onStdout: io.onStdout,
        onStderr: io.onStderr,
        onStarted: (detail) => {
          exec.inspect.Running = true;
          exec.inspect.Pid = Number(detail) || 0;
          started();
        },
        onResizable: (resize) => {
          exec.resize = resize;
          if (exec.size) resize(exec.size);
        },
      },
    ).then(
      (code) => {
        exec.inspect = { ...exec.inspect, Running: false, ExitCode: code, Pid: 0 };
        exec.resize = undefined;
        started();
        return code;
      },
      (err: unknown) => {
        exec.inspect = { ...exec.inspect, Running: false, ExitCode: 126, Pid: 0 };
        started();
        throw err;
      },
    );
    await Promise.race([running, exited]);
    return { exited };
  }

  resize(id: string, size: ConsoleSize): void {
    const exec = this.get(id);
    exec.size = size;
    exec.resize?.(size);
  }

  private get(id: string): ExecRecord {
    const exec = this.execs.get(id);
    if (!exec) throw new ExecNotFoundError(id);
    return exec;
  }

  /** Docker's 409s: exec needs a running, unpaused container. */
  private mustRun(containerId: string): void {
    const record = this.containers.get(containerId);
    if (!record.State.Running) throw new ContainerConflictError(`Container ${record.Id} is not running`);
    if (record.State.Restarting) throw new ContainerConflictError(`Container ${record.Id} is restarting, wait until the container is running`);
    if (record.State.Paused) throw new ContainerConflictError(`Container ${record.Id} is paused, unpause the container before exec`);
  }
}

function consoleSize(size: number[] | null | undefined): ConsoleSize {
  if (Array.isArray(size) && size.length === 2 && size.every((n) => Number.isInteger(n) && n > 0)) return { rows: size[0], cols: size[1] };
  return { rows: 24, cols: 80 };
}
