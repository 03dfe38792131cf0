import { randomBytes } from "node:crypto";
import { errorMessage } from "../../util/errors";
import type { EngineMachine } from "../machine/engine-machine";
import { confinementOf } from "../runtime/container-confinement";
import { killExecTree, runExec } from "../runtime/container-exec";

/**
 * Health checks as dockerd runs them (moby daemon/health.go): the image's
 * HEALTHCHECK merged with the container's, a probe run in the container as
 * an exec on a timer while it runs, and State.Health in inspect, the
 * `docker ps` status text, the `health` filter and `health_status` events.
 */

/** Docker's container.HealthConfig: durations in nanoseconds, 0 for "inherit / default". */
export interface HealthConfig {
  /** ["NONE"], ["CMD", argv…] or ["CMD-SHELL", command]; empty inherits the image's. */
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** One probe's result, as inspect's State.Health.Log shows it. */
export interface HealthcheckResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

/** State.Health. */
export interface Health {
  Status: HealthStatus;
  FailingStreak: number;
  /** The last MAX_LOG_ENTRIES results, oldest first. */
  Log: HealthcheckResult[];
}

/** The filter values `docker ps --filter health=…` accepts ("none": no health check). */
export const HEALTH_FILTER_VALUES = ["starting", "healthy", "unhealthy", "none"];

const SECOND_NS = 1e9;
/** dockerd's defaults: 30 s interval, 30 s timeout, no start period, 5 s start interval, 3 retries. */
const DEFAULTS = { interval: 30 * SECOND_NS, timeout: 30 * SECOND_NS, startPeriod: 0, startInterval: 5 * SECOND_NS, retries: 3 };
/** Longest output kept of one probe (more ends with "..."), and how many results are kept. */
export const MAX_OUTPUT_LEN = 4096;
export const MAX_LOG_ENTRIES = 5;
/** Docker's containertypes.MinimumDuration. */
const MINIMUM_DURATION_NS = 1e6;
/** Starting a probe that takes longer than this fails it (dockerd's separate start timeout). */
const PROBE_START_TIMEOUT_MS = 30_000;

/**
 * The container's health check over the image's, field by field (dockerd's
 * merge at create: a zero or empty field takes the image's). Undefined when
 * neither has one.
 */
export function mergeHealthcheck(image: HealthConfig | null | undefined, given: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!given) return image ? { ...image } : undefined;
  if (!image) return { ...given };
  return {
    ...given,
    Test: given.Test?.length ? given.Test : image.Test,
    Interval: given.Interval || image.Interval,
    Timeout: given.Timeout || image.Timeout,
    StartPeriod: given.StartPeriod || image.StartPeriod,
    StartInterval: given.StartInterval || image.StartInterval,
    Retries: given.Retries || image.Retries,
  };
}

/** What is wrong with a create request's health check (dockerd's messages), or undefined. */
export function healthcheckError(hc: HealthConfig | null | undefined): string | undefined {
  if (!hc) return undefined;
  if (hc.Test !== undefined && hc.Test !== null && (!Array.isArray(hc.Test) || !hc.Test.every((t) => typeof t === "string")))
    return 'Healthcheck Test must be a list of strings: ["CMD", "executable", "arg"…], ["CMD-SHELL", "command"] or ["NONE"].';
  const durations: Array<[keyof HealthConfig, string]> = [
    ["Interval", "Interval"],
    ["Timeout", "Timeout"],
    ["StartPeriod", "StartPeriod"],
    ["StartInterval", "StartInterval"],
  ];
  for (const [field, name] of durations) {
    const v = hc[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v)) return `${name} in Healthcheck must be a number of nanoseconds.`;
    if (v !== 0 && v < MINIMUM_DURATION_NS) return `${name} in Healthcheck cannot be less than 1ms`;
  }
  if (hc.Retries !== undefined && hc.Retries !== null && (typeof hc.Retries !== "number" || !Number.isInteger(hc.Retries))) return "Retries in Healthcheck must be a whole number.";
  if ((hc.Retries ?? 0) < 0) return "Retries in Healthcheck cannot be negative";
  const kind = hc.Test?.[0];
  if (kind === "CMD" || kind === "CMD-SHELL") {
    if (hc.Test!.length < 2 || (kind === "CMD-SHELL" && !hc.Test![1])) return `Healthcheck Test ${JSON.stringify(hc.Test)} gives no command to run.`;
  }
  return undefined;
}

/**
 * The probe's argv: CMD's own, CMD-SHELL's through the image's SHELL (or
 * /bin/sh -c). Undefined when the container has no probe (none given,
 * NONE, or a kind dockerd ignores too).
 */
export function probeCommand(hc: HealthConfig | null | undefined, shell?: string[] | null): string[] | undefined {
  const test = hc?.Test;
  if (!test?.length) return undefined;
  if (test[0] === "CMD" && test.length > 1) return test.slice(1);
  if (test[0] === "CMD-SHELL" && test.length > 1) return [...(shell?.length ? shell : ["/bin/sh", "-c"]), ...test.slice(1)];
  return undefined;
}

/** A health check's timings in milliseconds, defaults applied. */
export interface HealthTimings {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

export function healthTimings(hc: HealthConfig): HealthTimings {
  const ms = (ns: number | undefined, fallback: number): number => (ns || fallback) / 1e6;
  return {
    intervalMs: ms(hc.Interval, DEFAULTS.interval),
    timeoutMs: ms(hc.Timeout, DEFAULTS.timeout),
    startPeriodMs: ms(hc.StartPeriod, DEFAULTS.startPeriod),
    startIntervalMs: ms(hc.StartInterval, DEFAULTS.startInterval),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULTS.retries,
  };
}

/**
 * How long until the next probe (the first comes one interval after the
 * start, as in dockerd): within the start period, the start period's end
 * when that comes first, else the start interval while still starting.
 */
export function nextProbeDelay(t: HealthTimings, sinceStartMs: number, status: HealthStatus): number {
  if (sinceStartMs >= t.startPeriodMs) return t.intervalMs;
  const remaining = t.startPeriodMs - sinceStartMs;
  if (remaining < t.intervalMs) return remaining;
  return status === "starting" ? t.startIntervalMs : t.intervalMs;
}

/**
 * The health after one probe (dockerd's handleProbeResult): the result is
 * logged (the last five kept); exit 0 makes it healthy and clears the
 * failing streak; a failure counts, except while still starting within the
 * start period, and `retries` failures in a row make it unhealthy.
 */
export function applyProbeResult(health: Health, result: HealthcheckResult, t: HealthTimings, startedAt: string): { health: Health; changed: boolean } {
  const log = [...health.Log, result].slice(-MAX_LOG_ENTRIES);
  let { Status: status, FailingStreak: streak } = health;
  if (result.ExitCode === 0) {
    streak = 0;
    status = "healthy";
  } else if (!(status === "starting" && Date.parse(result.Start) - Date.parse(startedAt) < t.startPeriodMs)) {
    streak++;
    if (streak >= t.retries) status = "unhealthy";
  }
  return { health: { Status: status, FailingStreak: streak, Log: log }, changed: status !== health.Status };
}

/** What `docker ps` shows after "Up …": "health: starting", "healthy" or "unhealthy". */
export function healthStatusText(health: Health): string {
  return health.Status === "starting" ? "health: starting" : health.Status;
}

/** A probe's output: stdout and stderr together, the first MAX_OUTPUT_LEN bytes, "..." after them when there was more. */
export class ProbeOutput {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private truncated = false;

  push(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_LEN - this.length, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.length += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8") + (this.truncated ? "..." : "");
  }
}

/** Go's time.Duration.String for a whole number of milliseconds or more (what dockerd's timeout message shows: "1s", "1m30s", "500ms"). */
export function goDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${trimZeros(ms.toFixed(3))}ms`;
  const totalSeconds = ms / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  const s = `${trimZeros(seconds.toFixed(3))}s`;
  if (hours) return `${hours}h${minutes}m${s}`;
  if (minutes) return `${minutes}m${s}`;
  return s;
}

function trimZeros(n: string): string {
  return n.includes(".") ? n.replace(/\.?0+$/, "") : n;
}

/** What a probe needs of its container. */
export interface ProbedContainer {
  Id: string;
  Config: { Env?: string[]; User?: string; WorkingDir?: string; Hostname?: string; Healthcheck?: HealthConfig | null; Shell?: string[] };
  HostConfig: Parameters<typeof confinementOf>[0];
  State: { StartedAt: string; Health?: Health };
}

/** Runs one probe: its exit code and output, or ExitCode -1 when it outlived `timeoutMs` (it is killed then). */
export type ProbeRunner = (container: ProbedContainer, argv: string[], timeoutMs: number) => Promise<Omit<HealthcheckResult, "Start">>;

/**
 * Probes as `docker exec` runs processes (container-exec.ts): the
 * container's environment, user and working directory, its capabilities,
 * no terminal. The timeout counts from when the probe runs, not from when
 * the channel was asked for; a probe past it is killed with its children.
 */
export function execProbeRunner(machine: EngineMachine): ProbeRunner {
  return async (container, argv, timeoutMs) => {
    const runtime = await machine.runtime();
    const output = new ProbeOutput();
    let pid = 0;
    let markStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const exited = runExec(
      runtime.session,
      {
        containerId: container.Id,
        execId: randomBytes(8).toString("hex"),
        argv,
        env: container.Config.Env ?? [],
        user: container.Config.User ?? "",
        workingDir: container.Config.WorkingDir || "/",
        confinement: confinementOf({ ...container.HostConfig, Privileged: container.HostConfig.Privileged === true }),
        hostname: container.Config.Hostname || container.Id.slice(0, 12),
      },
      {
        onStdout: (d) => output.push(d),
        onStderr: (d) => output.push(d),
        onStarted: (detail) => {
          pid = Number(detail) || 0;
          markStarted();
        },
      },
    );
    const first = await race(
      started.then(() => "started" as const),
      exited.then(() => "exited" as const),
      PROBE_START_TIMEOUT_MS,
    );
    if (first === "timeout") throw new Error(`timed out starting health check for container ${container.Id}`);
    const outcome = await race(
      exited.then(() => "exited" as const),
      undefined,
      timeoutMs,
    );
    if (outcome === "timeout") {
      // (what it wrote before the kill: the engine's wrappers report the kill itself, which is not the probe's output)
      const out = output.text();
      // Until it has exited (a kill that could not run, or a child forked meanwhile, is tried again).
      for (let attempt = 0; attempt < 3; attempt++) {
        if (pid) await killExecTree(runtime.session, pid).catch(() => undefined);
        if ((await race(exited, undefined, PROBE_START_TIMEOUT_MS / 3)) !== "timeout") break;
      }
      return { ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutMs)})${out ? `: ${out}` : ""}`, End: new Date().toISOString() };
    }
    return { ExitCode: await exited, Output: output.text(), End: new Date().toISOString() };
  };
}

async function race<A, B>(a: Promise<A>, b: Promise<B> | undefined, ms: number): Promise<A | B | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race(b ? [a, b, timeout] : [a, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One probe loop per running container with a health check. `started` (at
 * each start, restarts included) resets the health to starting; `stop` (the
 * container stopped or paused) ends the loop and ignores a probe in flight,
 * leaving the last health in the record, as dockerd does; `resume` (unpause)
 * starts probing again without a reset.
 */
export class HealthMonitor {
  private readonly loops = new Map<string, { stopped: boolean; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly probe: ProbeRunner,
    /** The health's status changed: save the record, publish `health_status: …`. */
    private readonly changed: (container: ProbedContainer, status: HealthStatus) => void,
  ) {}

  started(container: ProbedContainer): void {
    this.stop(container.Id);
    if (!probeCommand(container.Config.Healthcheck, container.Config.Shell)) return;
    container.State.Health = { Status: "starting", FailingStreak: 0, Log: container.State.Health?.Log ?? [] };
    this.resume(container);
  }

  resume(container: ProbedContainer): void {
    this.stop(container.Id);
    const hc = container.Config.Healthcheck;
    const argv = probeCommand(hc, container.Config.Shell);
    if (!hc || !argv || !container.State.Health) return;
    const t = healthTimings(hc);
    const loop: { stopped: boolean; timer?: NodeJS.Timeout } = { stopped: false };
    this.loops.set(container.Id, loop);
    const schedule = (): void => {
      if (loop.stopped) return;
      const since = Date.now() - Date.parse(container.State.StartedAt);
      loop.timer = setTimeout(() => void tick(), nextProbeDelay(t, since, container.State.Health?.Status ?? "starting"));
      loop.timer.unref();
    };
    const tick = async (): Promise<void> => {
      const start = new Date().toISOString();
      let result: HealthcheckResult;
      try {
        result = { Start: start, ...(await this.probe(container, argv, t.timeoutMs)) };
      } catch (err) {
        result = { Start: start, End: new Date().toISOString(), ExitCode: -1, Output: errorMessage(err) };
      }
      if (loop.stopped || !container.State.Health) return;
      const { health, changed } = applyProbeResult(container.State.Health, result, t, container.State.StartedAt);
      container.State.Health = health;
      if (changed) this.changed(container, health.Status);
      schedule();
    };
    schedule();
  }

  stop(id: string): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    loop.stopped = true;
    clearTimeout(loop.timer);
    this.loops.delete(id);
  }
}
