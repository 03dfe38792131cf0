// Restart policies as dockerd's restart manager applies them: which exits
// restart, the back-off between restarts, what the engine restarts when it
// starts again, and the policies it refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nextRestartDelay, restartPolicyError, restartsWithEngine, RestartTimers, shouldRestart } from "../../../../../src/core/engine/containers/container-restart";

test("which exits restart: always and unless-stopped any, on-failure a non-zero one up to its count, none after a stop by hand", () => {
  assert.equal(shouldRestart({ Name: "always" }, 0, false, 5), true);
  assert.equal(shouldRestart({ Name: "unless-stopped" }, 0, false, 0), true);
  assert.equal(shouldRestart({ Name: "on-failure" }, 0, false, 0), false);
  assert.equal(shouldRestart({ Name: "on-failure" }, 1, false, 100), true, "no count: no limit");
  assert.equal(shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, 1, false, 1), true);
  assert.equal(shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, 1, false, 2), false);
  assert.equal(shouldRestart({ Name: "no" }, 1, false, 0), false);
  assert.equal(shouldRestart({ Name: "" }, 1, false, 0), false);
  assert.equal(shouldRestart(undefined, 1, false, 0), false);
  for (const name of ["always", "unless-stopped", "on-failure"]) assert.equal(shouldRestart({ Name: name }, 137, true, 0), false, name);
});

test("the back-off: 100 ms, doubling to at most a minute, from 100 ms again after a run of 10 s or more", () => {
  const delays: number[] = [];
  let last = 0;
  for (let i = 0; i < 12; i++) delays.push((last = nextRestartDelay(last, 50)));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 60_000, 60_000]);
  assert.equal(nextRestartDelay(51_200, 10_000), 100);
  assert.equal(nextRestartDelay(51_200, 9_999), 60_000);
});

test("when the engine starts again: always containers start, unless-stopped ones not stopped by hand, on-failure ones that failed", () => {
  assert.equal(restartsWithEngine({ Name: "always" }, 0, true), true);
  assert.equal(restartsWithEngine({ Name: "unless-stopped" }, 255, false), true);
  assert.equal(restartsWithEngine({ Name: "unless-stopped" }, 137, true), false);
  assert.equal(restartsWithEngine({ Name: "on-failure", MaximumRetryCount: 1 }, 255, false), true);
  assert.equal(restartsWithEngine({ Name: "on-failure" }, 0, false), false);
  assert.equal(restartsWithEngine({ Name: "no" }, 255, false), false);
  assert.equal(restartsWithEngine(undefined, 255, false), false);
});

test("policies dockerd refuses, with its words", () => {
  assert.equal(restartPolicyError(undefined, false), undefined);
  assert.equal(restartPolicyError({ Name: "", MaximumRetryCount: 0 }, true), undefined);
  assert.equal(restartPolicyError({ Name: "on-failure", MaximumRetryCount: 3 }, false), undefined);
  assert.equal(restartPolicyError({ Name: "no" }, true), undefined);
  assert.match(restartPolicyError({ Name: "sometimes" }, false)!, /unknown policy 'sometimes'/);
  assert.equal(restartPolicyError({ Name: "always", MaximumRetryCount: 3 }, false), "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  assert.equal(restartPolicyError({ Name: "on-failure", MaximumRetryCount: -1 }, false), "invalid restart policy: maximum retry count cannot be negative");
  assert.equal(restartPolicyError({ Name: "always" }, true), "can't create 'AutoRemove' container with restart policy");
});

test("restart timers: each container's delay grows with its restarts, a cancel drops the pending one, a reset starts the delays again", async () => {
  const timers = new RestartTimers();
  const fired: string[] = [];
  const done = new Promise<void>((resolve) => timers.schedule("a", 0, () => (fired.push("a"), resolve())));
  assert.equal(
    timers.schedule("b", 0, () => fired.push("b")),
    100,
  );
  assert.equal(timers.cancel("b"), true);
  assert.equal(timers.cancel("b"), false);
  await done;
  assert.deepEqual(fired, ["a"]);
  assert.equal(
    timers.schedule("a", 0, () => fired.push("a again")),
    200,
  );
  timers.reset("a");
  assert.equal(
    timers.schedule("a", 0, () => undefined),
    100,
  );
  timers.cancelAll();
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(fired, ["a"], "cancelled timers never fire");
});
