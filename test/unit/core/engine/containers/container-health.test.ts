// The pure parts of health checks as dockerd runs them: the image's and the
// container's check merged, the probe's argv, its timings, the state after
// each probe, the output kept, and the texts `docker ps` and events show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchesEvent, type EngineEvent } from "../../../../../src/core/api/engine-events";
import { statusText } from "../../../../../src/core/api/container-routes";
import {
  applyProbeResult,
  goDuration,
  healthcheckError,
  healthTimings,
  mergeHealthcheck,
  nextProbeDelay,
  probeCommand,
  ProbeOutput,
  type Health,
  type HealthcheckResult,
} from "../../../../../src/core/engine/containers/container-health";

const S = 1e9;

test("the container's health check overrides the image's field by field; an empty Test inherits, NONE turns it off", () => {
  const image = { Test: ["CMD-SHELL", "test -f /ok"], Interval: 5 * S, Timeout: 2 * S, Retries: 4 };
  assert.deepEqual(mergeHealthcheck(image, undefined), image);
  assert.equal(mergeHealthcheck(undefined, undefined), undefined);
  assert.deepEqual(mergeHealthcheck(image, { Interval: 1 * S, StartPeriod: 60 * S }), {
    Test: ["CMD-SHELL", "test -f /ok"],
    Interval: 1 * S,
    Timeout: 2 * S,
    StartPeriod: 60 * S,
    StartInterval: undefined,
    Retries: 4,
  });
  assert.deepEqual(mergeHealthcheck(image, { Test: ["CMD", "true"], Retries: 1 })?.Test, ["CMD", "true"]);
  const none = mergeHealthcheck(image, { Test: ["NONE"] });
  assert.deepEqual(none?.Test, ["NONE"]);
  assert.equal(probeCommand(none), undefined);
  assert.deepEqual(mergeHealthcheck(undefined, { Test: ["CMD", "true"] }), { Test: ["CMD", "true"] });
});

test("a health check dockerd refuses is refused with its words", () => {
  assert.equal(healthcheckError({ Test: ["CMD", "true"], Interval: 1 * S, Timeout: 0, Retries: 3 }), undefined);
  assert.equal(healthcheckError({ Interval: 500_000 }), "Interval in Healthcheck cannot be less than 1ms");
  assert.equal(healthcheckError({ Timeout: 1 }), "Timeout in Healthcheck cannot be less than 1ms");
  assert.equal(healthcheckError({ StartPeriod: 10 }), "StartPeriod in Healthcheck cannot be less than 1ms");
  assert.equal(healthcheckError({ Retries: -1 }), "Retries in Healthcheck cannot be negative");
  assert.match(healthcheckError({ Test: ["CMD-SHELL", ""] })!, /gives no command/);
  assert.match(healthcheckError({ Test: "true" as unknown as string[] })!, /list of strings/);
});

test("the probe: CMD as given, CMD-SHELL through the image's SHELL or /bin/sh -c; none for NONE, nothing or an unknown kind", () => {
  assert.deepEqual(probeCommand({ Test: ["CMD", "test", "-f", "/ok"] }), ["test", "-f", "/ok"]);
  assert.deepEqual(probeCommand({ Test: ["CMD-SHELL", "wget -q -O- localhost || exit 1"] }), ["/bin/sh", "-c", "wget -q -O- localhost || exit 1"]);
  assert.deepEqual(probeCommand({ Test: ["CMD-SHELL", "x"] }, ["/bin/bash", "-ec"]), ["/bin/bash", "-ec", "x"]);
  assert.equal(probeCommand({ Test: ["NONE"] }), undefined);
  assert.equal(probeCommand({ Test: ["HTTP", "/"] }), undefined);
  assert.equal(probeCommand({}), undefined);
  assert.equal(probeCommand(undefined), undefined);
});

test("timings: dockerd's defaults (30 s, 30 s, no start period, 5 s start interval, 3 retries); the first probe one interval after the start, or at the start period's end", () => {
  assert.deepEqual(healthTimings({}), { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3 });
  const t = healthTimings({ Interval: 1 * S, Timeout: 2 * S, StartPeriod: 60 * S, Retries: 1 });
  assert.deepEqual(t, { intervalMs: 1000, timeoutMs: 2000, startPeriodMs: 60_000, startIntervalMs: 5000, retries: 1 });
  assert.equal(nextProbeDelay(healthTimings({}), 0, "starting"), 30_000);
  // A start period shorter than the interval: the first probe comes when it ends.
  const short = healthTimings({ Interval: 30 * S, StartPeriod: 1 * S });
  assert.equal(nextProbeDelay(short, 0, "starting"), 1000);
  assert.equal(nextProbeDelay(short, 400, "starting"), 600);
  assert.equal(nextProbeDelay(short, 1500, "starting"), 30_000);
  // Within a long start period, while starting: the start interval.
  const long = healthTimings({ Interval: 30 * S, StartPeriod: 120 * S, StartInterval: 2 * S });
  assert.equal(nextProbeDelay(long, 10_000, "starting"), 2000);
  assert.equal(nextProbeDelay(long, 10_000, "healthy"), 30_000);
});

function result(code: number, startMs: number, output = ""): HealthcheckResult {
  return { Start: new Date(startMs).toISOString(), End: new Date(startMs + 50).toISOString(), ExitCode: code, Output: output };
}

test("after each probe: failures within the start period do not count while starting, a success makes it healthy, `retries` failures in a row unhealthy; the last five results kept", () => {
  const started = Date.parse("2026-01-01T00:00:00Z");
  const startedAt = new Date(started).toISOString();
  const t = healthTimings({ Interval: 1 * S, StartPeriod: 3 * S, Retries: 2 });
  let h: Health = { Status: "starting", FailingStreak: 0, Log: [] };
  const step = (code: number, atMs: number): boolean => {
    const r = applyProbeResult(h, result(code, started + atMs, `exit ${code}`), t, startedAt);
    h = r.health;
    return r.changed;
  };
  assert.equal(step(1, 1000), false);
  assert.equal(step(1, 2000), false);
  assert.deepEqual([h.Status, h.FailingStreak], ["starting", 0], "within the start period");
  assert.equal(step(1, 3000), false);
  assert.deepEqual([h.Status, h.FailingStreak], ["starting", 1], "past it, a failure counts");
  assert.equal(step(0, 4000), true);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 0]);
  assert.equal(step(1, 5000), false);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 1], "one failure of two: still healthy");
  assert.equal(step(-1, 6000), true);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 2], "a timed-out probe (-1) is a failure too");
  assert.equal(h.Log.length, 5);
  assert.deepEqual(
    h.Log.map((l) => l.Output),
    ["exit 1", "exit 1", "exit 0", "exit 1", "exit -1"],
  );
  // A healthy result within the start period counts at once; a later failure in it counts too (no longer starting).
  let g: Health = { Status: "starting", FailingStreak: 0, Log: [] };
  g = applyProbeResult(g, result(0, started + 500), t, startedAt).health;
  g = applyProbeResult(g, result(1, started + 1000), t, startedAt).health;
  assert.deepEqual([g.Status, g.FailingStreak], ["healthy", 1]);
});

test("a probe's output: stdout and stderr together, the first 4096 bytes and '...' when there was more", () => {
  const small = new ProbeOutput();
  small.push(Buffer.from("ok\n"));
  small.push(Buffer.from("warn\n"));
  assert.equal(small.text(), "ok\nwarn\n");
  const big = new ProbeOutput();
  big.push(Buffer.alloc(4000, "a"));
  big.push(Buffer.alloc(200, "b"));
  big.push(Buffer.from("c"));
  assert.equal(big.text(), "a".repeat(4000) + "b".repeat(96) + "...");
  const exact = new ProbeOutput();
  exact.push(Buffer.alloc(4096, "x"));
  assert.equal(exact.text(), "x".repeat(4096));
});

test("durations as Go prints them (dockerd's timeout message)", () => {
  assert.equal(goDuration(1000), "1s");
  assert.equal(goDuration(30_000), "30s");
  assert.equal(goDuration(90_000), "1m30s");
  assert.equal(goDuration(500), "500ms");
  assert.equal(goDuration(2500), "2.5s");
  assert.equal(goDuration(3_600_000), "1h0m0s");
});

test("docker ps status: health after Up, Restarting with the exit code", () => {
  const now = new Date().toISOString();
  const state = { Status: "running" as const, Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: "", StartedAt: now, FinishedAt: now };
  assert.equal(statusText({ State: state }), "Up Less than a second");
  assert.equal(statusText({ State: { ...state, Health: { Status: "starting", FailingStreak: 0, Log: [] } } }), "Up Less than a second (health: starting)");
  assert.equal(statusText({ State: { ...state, Health: { Status: "healthy", FailingStreak: 0, Log: [] } } }), "Up Less than a second (healthy)");
  assert.equal(statusText({ State: { ...state, Health: { Status: "unhealthy", FailingStreak: 3, Log: [] } } }), "Up Less than a second (unhealthy)");
  assert.equal(statusText({ State: { ...state, Paused: true, Health: { Status: "healthy", FailingStreak: 0, Log: [] } } }), "Up Less than a second (Paused)");
  assert.equal(statusText({ State: { ...state, Status: "restarting", Restarting: true, ExitCode: 1 } }), "Restarting (1) Less than a second ago");
  assert.match(statusText({ State: { ...state, Status: "exited", Running: false, ExitCode: 1, Health: { Status: "healthy", FailingStreak: 0, Log: [] } } }), /^Exited \(1\) /);
});

test("events: event=health_status matches 'health_status: healthy' (as dockerd's filter), an exact action still matches exactly", () => {
  const event: EngineEvent = { Type: "container", Action: "health_status: healthy", Actor: { ID: "abc", Attributes: { name: "web" } }, scope: "local", timeNano: 0n };
  assert.equal(matchesEvent(event, new Map([["event", ["health_status"]]])), true);
  assert.equal(matchesEvent(event, new Map([["event", ["health_status: healthy"]]])), true);
  assert.equal(matchesEvent(event, new Map([["event", ["health_status: unhealthy"]]])), false);
  assert.equal(matchesEvent(event, new Map([["event", ["health"]]])), false);
  assert.equal(matchesEvent({ ...event, Action: "start" }, new Map([["event", ["health_status"]]])), false);
});
