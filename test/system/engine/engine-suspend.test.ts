// The engine machine's lifecycle as the docker CLI sees it: suspended when
// idle (nothing running in it), resumed by the next request with its
// containers' writable layers intact, kept running while a container runs,
// and suspended rather than halted when the engine stops, so a stopped
// container's files are there after an engine restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import type { Run } from "../fixtures/command-run";
import { FIXTURE_MEMORY_MIB } from "../fixtures/default-box-home";
import { EngineUnderTest } from "../fixtures/engine-under-test";

/** Six seconds: long enough for one docker command to follow another, short enough to wait for. */
const IDLE_MINUTES = "0.1";
const IDLE_MS = Number(IDLE_MINUTES) * 60_000;
/** How often the engine looks for idleness: a quarter of the idle time, at least a second (engine-machine.ts). */
const CHECK_MS = Math.max(1000, IDLE_MS / 4);

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
  // This file tests the engine machine's own start, suspend and resume: it starts from the box, not from the warm machine.
  // With the disk (HANGAR_ENGINE_DISK=1): suspend and resume must keep memory and disk together.
  engine = await EngineUnderTest.start({ startArgs: ["--idle-suspend", IDLE_MINUTES], coldMachine: true, env: { HANGAR_ENGINE_DISK: "1" } });
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
  // The idle time and two idle checks past it with a container running: no suspend (an idle machine is suspended
  // within the idle time and one check). Nothing to poll for: no suspend is the point, and a docker request is use.
  await new Promise((r) => setTimeout(r, IDLE_MS + 2 * CHECK_MS + 1000));
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

test("containers' files live on the engine machine's disk, not in its memory: 150 MB in a 128 MiB machine, kept through suspend and resume", { timeout: 400_000 }, async () => {
  const disk = path.join(engine.home, "engine", "disk.img");
  // (no disk yet when the machine has not started: this test may run first)
  const usedBefore = ((await stat(disk).catch(() => undefined))?.blocks ?? 0) * 512;
  const script = "if [ -f /big ]; then echo kept; else dd if=/dev/zero of=/big bs=1M count=144 2>/dev/null && echo hangar-disk >> /big && echo made; fi; stat -c %s /big; tail -c 12 /big";
  const made = await docker(["run", "--name", "big", "busybox", "sh", "-c", script]);
  assert.equal(made.stdout, "made\n150994956\nhangar-disk\n", made.stderr);
  const used = (await stat(disk)).blocks * 512 - usedBefore;
  assert.ok(used > 145e6, `the host's disk file grew by ${used} bytes, not by the file's 150 MB`);
  assert.ok((await stat(disk)).blocks * 512 < 1e9, "the disk file stays sparse");

  await hangar(["engine", "stop"]);
  assert.match(await engineLog(), /engine machine suspended/);
  await hangar(["engine", "start", "--memory", String(FIXTURE_MEMORY_MIB), "--idle-suspend", "0"]);
  const kept = await docker(["start", "-a", "big"]);
  assert.equal(kept.stdout, "kept\n150994956\nhangar-disk\n", kept.stderr);
  await docker(["rm", "big"]);
});
