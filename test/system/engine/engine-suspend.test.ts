// The engine machine's lifecycle as the docker CLI sees it: suspended when
// idle (nothing running in it), resumed by the next request with its
// containers' writable layers intact, kept running while a container runs,
// and suspended rather than halted when the engine stops, so a stopped
// container's files are there after an engine restart.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import packageJson from "../../../package.json";
import { dockerEnv, runCommand, type Run } from "../fixtures/command-run";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
const SHARED_CACHE = path.join(os.tmpdir(), "hangar-test-default-box", "cache");
/** Six seconds: long enough for one docker command to follow another, short enough to wait for. */
const IDLE_MINUTES = "0.1";

let home = "";
let dockerConfig = "";

function run(file: string, args: string[], env: NodeJS.ProcessEnv, allowFail = false): Promise<Run> {
  return runCommand(file, args, { env, cwd: home, allowFail, timeoutMs: 240_000, maxBuffer: 16 * 1024 * 1024 });
}

function docker(args: string[], allowFail = false): Promise<Run> {
  return run("docker", args, dockerEnv(path.join(home, "docker.sock"), dockerConfig), allowFail);
}

function hangar(args: string[]): Promise<Run> {
  return run(process.execPath, [CLI, ...args], { ...process.env, HANGAR_HOME: home });
}

async function engineLog(): Promise<string> {
  return readFile(path.join(home, "engine", "engine.log"), "utf8").catch(() => "");
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
  home = await homeWithDefaultBox();
  if (existsSync(SHARED_CACHE)) await cp(SHARED_CACHE, path.join(home, "cache"), { recursive: true });
  dockerConfig = await mkdtemp(path.join(os.tmpdir(), "hangar-docker-config-"));
  await hangar(["engine", "start", "--memory", String(FIXTURE_MEMORY_MIB), "--idle-suspend", IDLE_MINUTES]);
});

after(async () => {
  await run(process.execPath, [CLI, "engine", "stop"], { ...process.env, HANGAR_HOME: home }, true);
  await rm(home, { recursive: true, force: true });
  await rm(dockerConfig, { recursive: true, force: true });
});

test("idle: the engine machine is suspended, and the next request resumes it with the container's changes", { timeout: 400_000 }, async () => {
  await docker(["run", "--name", "keep", "busybox", "sh", "-c", "echo kept > /kept.txt"]);
  assert.ok(await waitForLog(/engine machine suspended/, 1, 120_000), `no idle suspend in the log:\n${await engineLog()}`);
  assert.match(await engineLog(), /suspending the idle engine machine/);
  assert.ok(existsSync(path.join(home, "engine", "machine.state")));
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
