// The engine machine's lifecycle as the docker CLI sees it: suspended when
// idle (nothing running in it), resumed by the next request with its
// containers' writable layers intact, kept running while a container runs,
// and suspended rather than halted when the engine stops, so a stopped
// container's files are there after an engine restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import type { Run } from "../fixtures/command-run";
import { FIXTURE_MEMORY_MIB } from "../fixtures/default-box-home";
import { EngineUnderTest } from "../fixtures/engine-under-test";

/** Six seconds: long enough for one docker command to follow another, short enough to wait for. */
const IDLE_MINUTES = "0.1";

let engine: EngineUnderTest;

function docker(args: string[], allowFail = false): Promise<Run> {
  return engine.docker(args, allowFail);
}

function hangar(args: string[]): Promise<Run> {
  return engine.hangar(args);
}

async function engineLog(): Promise<string> {
  return readFile(path.join(engine.home, "engine", "engine.log"), "utf8").catch(() => "");
}

async function waitForLog(pattern: RegExp, count: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (((await engineLog()).match(new RegExp(pattern.source, "g")) ?? []).length >= count) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

before(async () => {
  engine = await EngineUnderTest.start({ startArgs: ["--idle-suspend", IDLE_MINUTES] });
});

after(async () => {
  await engine?.stop();
});

test("idle: the engine machine is suspended, and the next request resumes it with the container's changes", { timeout: 400_000 }, async () => {
  await docker(["run", "--name", "keep", "busybox", "sh", "-c", "echo kept > /kept.txt"]);
  assert.ok(await waitForLog(/engine machine suspended/, 1, 120_000), `no idle suspend in the log:\n${await engineLog()}`);
  assert.match(await engineLog(), /suspending the idle engine machine/);
  assert.ok(existsSync(path.join(engine.home, "engine", "machine.state")));
  assert.equal((await docker(["diff", "keep"])).stdout, "A /kept.txt\n");
  assert.match(await engineLog(), /resuming the engine machine/);
  const again = await docker(["run", "--rm", "busybox", "echo", "after resume"]);
  assert.equal(again.stdout, "after resume\n");
});

test("a running container keeps the machine awake; stopping the engine suspends it, and a restart finds stopped containers' files", { timeout: 400_000 }, async () => {
  const suspendsBefore = ((await engineLog()).match(/suspending the idle engine machine/g) ?? []).length;
  await docker(["run", "-d", "--name", "sleeper", "busybox", "sleep", "600"]);
  // Three idle periods with a container running: no suspend.
  await new Promise((r) => setTimeout(r, 18_000));
  assert.equal(((await engineLog()).match(/suspending the idle engine machine/g) ?? []).length, suspendsBefore);
  assert.match((await docker(["ps", "--format", "{{.Names}} {{.Status}}"])).stdout, /^sleeper Up /m);

  await hangar(["engine", "stop"]);
  assert.match(await engineLog(), /engine machine suspended/);
  await hangar(["engine", "start", "--memory", String(FIXTURE_MEMORY_MIB), "--idle-suspend", "0"]);
  // The running container was stopped with the engine (as with dockerd); the stopped one's layer is still there.
  assert.match((await docker(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout, /^sleeper Exited /m);
  assert.equal((await docker(["diff", "keep"])).stdout, "A /kept.txt\n");
  assert.equal((await docker(["start", "-a", "keep"])).code, 0);
  const read = await docker(["run", "--rm", "busybox", "true"]);
  assert.equal(read.code, 0);
});
