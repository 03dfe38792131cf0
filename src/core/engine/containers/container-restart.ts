/**
 * Restart policies as dockerd applies them (moby restartmanager): which
 * exits restart a container, after what delay, and the timers that wait it
 * out. The rules, from dockerd:
 * - `always` restarts any exit; `unless-stopped` too, unless the container
 *   was stopped by hand (stop, kill); `on-failure[:N]` a non-zero exit, at
 *   most N times (0: no limit); `no` (or none) never.
 * - A container stopped by hand is not restarted, whatever its policy,
 *   until it is started by hand again (which also resets its count).
 * - The delay starts at 100 ms and doubles at each restart, up to a minute;
 *   a run of 10 s or more resets it.
 * - When the engine starts again, `always` containers are started, and
 *   `unless-stopped` ones not stopped by hand; the engine stopping is not a
 *   stop by hand.
 */

/** HostConfig.RestartPolicy. */
export interface RestartPolicy {
  Name?: string;
  MaximumRetryCount?: number;
}

const POLICIES = ["no", "always", "unless-stopped", "on-failure"];
export const FIRST_DELAY_MS = 100;
export const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the delay. */
export const RESET_AFTER_MS = 10_000;

/** What is wrong with a create request's restart policy (dockerd's messages), or undefined. */
export function restartPolicyError(policy: RestartPolicy | null | undefined, autoRemove: boolean): string | undefined {
  const name = policy?.Name ?? "";
  const max = policy?.MaximumRetryCount ?? 0;
  if (typeof max !== "number" || !Number.isInteger(max)) return "invalid restart policy: maximum retry count must be a whole number";
  if (name !== "" && !POLICIES.includes(name)) return `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`;
  if (name === "on-failure" && max < 0) return "invalid restart policy: maximum retry count cannot be negative";
  if ((name === "always" || name === "unless-stopped" || name === "no") && max !== 0)
    return `invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? " and cannot be negative" : ""}`;
  if (autoRemove && name !== "" && name !== "no") return "can't create 'AutoRemove' container with restart policy";
  return undefined;
}

/** Whether an exit restarts the container under its policy. */
export function shouldRestart(policy: RestartPolicy | null | undefined, exitCode: number, stoppedByHand: boolean, restartCount: number): boolean {
  if (stoppedByHand) return false;
  switch (policy?.Name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure": {
      const max = policy.MaximumRetryCount ?? 0;
      return exitCode !== 0 && (max <= 0 || restartCount < max);
    }
    default:
      return false;
  }
}

/** The next delay, from the last one (0: none yet) and how long the container ran. */
export function nextRestartDelay(previousMs: number, ranMs: number): number {
  const last = ranMs >= RESET_AFTER_MS ? 0 : previousMs;
  return last === 0 ? FIRST_DELAY_MS : Math.min(last * 2, MAX_DELAY_MS);
}

/** Whether the engine, starting again, starts the container (dockerd's restore). */
export function restartsWithEngine(policy: RestartPolicy | null | undefined, exitCode: number, stoppedByHand: boolean): boolean {
  if (policy?.Name === "always") return true;
  if (stoppedByHand) return false;
  return policy?.Name === "unless-stopped" || (policy?.Name === "on-failure" && exitCode !== 0);
}

/** The pending restarts: one timer per container, and each container's last delay. */
export class RestartTimers {
  private readonly delays = new Map<string, number>();
  private readonly pending = new Map<string, NodeJS.Timeout>();

  /** Schedules `restart` after the container's next delay; returns the delay. */
  schedule(id: string, ranMs: number, restart: () => void): number {
    this.cancel(id);
    const delay = nextRestartDelay(this.delays.get(id) ?? 0, ranMs);
    this.delays.set(id, delay);
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        restart();
      }, delay),
    );
    return delay;
  }

  /** Drops a pending restart; true when there was one. */
  cancel(id: string): boolean {
    const timer = this.pending.get(id);
    if (!timer) return false;
    clearTimeout(timer);
    this.pending.delete(id);
    return true;
  }

  /** A start by hand, or the container's removal: the delays begin again. */
  reset(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }
}
