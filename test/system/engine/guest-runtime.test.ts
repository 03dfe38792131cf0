// Containers in a real engine machine: the built-in busybox image unpacked in
// the guest, processes in their own PID/UTS/mount/IPC/network namespaces on
// an overlay with a writable layer of their own, cgroup v2 limits enforced.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cp, mkdir, readdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EmbeddedBox } from "../../../src/core/boxes/embedded-box";
import { ensureBuiltinImage } from "../../../src/core/engine/images/builtin-images";
import { ImageStore } from "../../../src/core/engine/images/image-store";
import { GuestRuntime, type ContainerSpec } from "../../../src/core/engine/runtime/guest-runtime";
import { MachineRunner } from "../../../src/core/machines/machine-runner";
import { MachineSession } from "../../../src/core/machines/machine-session";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

let home = "";
let machine: MachineRunner | undefined;
let session: MachineSession | undefined;
let runtime: GuestRuntime;
let busyboxId = "";
const created: string[] = [];

async function run(spec: Partial<ContainerSpec> & { argv: string[] }): Promise<{ code: number; stdout: string; stderr: string; id: string }> {
  const id = randomBytes(32).toString("hex");
  created.push(id);
  let stdout = "";
  let stderr = "";
  const code = await runtime.run(
    { id, imageId: busyboxId, env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], ...spec },
    { onStdout: (d) => (stdout += d), onStderr: (d) => (stderr += d) },
  );
  return { code, stdout, stderr, id };
}

before(async () => {
  home = await homeWithDefaultBox();
  // The box build's download cache, when the fixture has one, saves fetching busybox-static again.
  const cache = path.join(os.tmpdir(), "hangar-test-default-box", "cache");
  if (existsSync(cache)) await cp(cache, path.join(home, "cache"), { recursive: true });
  const store = await ImageStore.open(path.join(home, "engine", "images"));
  const image = await ensureBuiltinImage(store, "busybox:latest", { hangarHome: home });
  assert.ok(image, "the built-in busybox image");
  busyboxId = image.id;
  const boxDir = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox");
  const [version] = await readdir(boxDir);
  const box = await EmbeddedBox.open(path.join(boxDir, version, "embedded"));
  await mkdir(path.join(home, "engine"), { recursive: true });
  const keyFile = path.join(home, "engine", "machine_key");
  machine = await MachineRunner.start({ box, memoryMiB: FIXTURE_MEMORY_MIB, keyFile });
  session = await MachineSession.open(machine.sshPort, keyFile);
  runtime = new GuestRuntime(session, store);
});

after(async () => {
  for (const id of created) await runtime?.remove(id).catch(() => undefined);
  session?.close();
  await machine?.stop();
  if (home) await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("a container's process is PID 1 with its own hostname; stdout, stderr and the exit status come back apart", { timeout: 180_000 }, async () => {
  const r = await run({ argv: ["sh", "-c", "echo pid=$$; hostname; ls /proc | grep -c '^[0-9]'; echo err >&2; exit 3"] });
  assert.equal(r.code, 3, r.stderr);
  const [pid, hostname, processes] = r.stdout.trim().split("\n");
  assert.equal(pid, "pid=1");
  assert.equal(hostname, r.id.slice(0, 12), "the hostname is the short ID, as Docker sets it");
  assert.ok(Number(processes) <= 3, `only the container's own processes are visible (saw ${processes})`);
  assert.equal(r.stderr, "err\n");
  // The engine machine's hostname is untouched (UTS namespace).
  assert.equal((await session!.run("hostname")).stdout.trim(), "hangar");
});

test("env and working directory reach the process; the network namespace has only loopback", { timeout: 120_000 }, async () => {
  const r = await run({ argv: ["sh", "-c", "pwd; echo $GREETING; ls /sys/class/net 2>/dev/null || ip -o link | cut -d: -f2"], env: ["GREETING=hello from env", "PATH=/bin"], workingDir: "/srv/app" });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => l.trim());
  assert.deepEqual(lines.slice(0, 2), ["/srv/app", "hello from env"]);
  assert.deepEqual(lines.slice(2), ["lo"], "a fresh network namespace");
});

test("each container writes to its own layer: the image and other containers do not see it", { timeout: 120_000 }, async () => {
  const a = await run({ argv: ["sh", "-c", "echo mine > /etc/written-by-a; rm /bin/ls; cat /etc/written-by-a"] });
  assert.equal(a.stdout, "mine\n", a.stderr);
  const b = await run({ argv: ["sh", "-c", "ls /etc/written-by-a 2>&1; test -e /bin/ls && echo ls-still-there"] });
  assert.match(b.stdout, /No such file/);
  assert.match(b.stdout, /ls-still-there/);
  const lower = `/var/lib/hangar/images/${busyboxId.slice(7)}/rootfs`;
  assert.equal((await session!.run(`test -e ${lower}/etc/written-by-a || test ! -e ${lower}/bin/ls && echo changed || echo intact`)).stdout.trim(), "intact");
});

test("--memory is enforced: an allocation above the limit is killed (137); one below it runs", { timeout: 120_000 }, async () => {
  const over = await run({ argv: ["dd", "if=/dev/zero", "of=/dev/null", "bs=40M", "count=1"], memoryBytes: 16 * 1024 * 1024 });
  assert.equal(over.code, 137, `dd of 40 MiB under a 16 MiB limit: ${over.stderr}`);
  const under = await run({ argv: ["dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1"], memoryBytes: 16 * 1024 * 1024 });
  assert.equal(under.code, 0, under.stderr);
});

test("--pids-limit is enforced: forking past it fails inside the container", { timeout: 120_000 }, async () => {
  const r = await run({ argv: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done 2>&1; wait; echo done"], pidsLimit: 4 });
  assert.match(r.stdout + r.stderr, /can't fork|Resource temporarily unavailable|Try again/i);
});

test("a missing command fails with the shell's status, not a hang", { timeout: 60_000 }, async () => {
  const r = await run({ argv: ["/no/such/program"] });
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /no\/such\/program/);
});

test("kill: TERM reaches a process that handles it; KILL ends one that does not (137)", { timeout: 120_000 }, async () => {
  const id = randomBytes(32).toString("hex");
  created.push(id);
  let out = "";
  const running = runtime.run({ id, imageId: busyboxId, argv: ["sh", "-c", "trap 'echo got-term; exit 143' TERM; echo ready; while :; do sleep 1; done"] }, { onStdout: (d) => (out += d) });
  for (let i = 0; i < 100 && !out.includes("ready"); i++) await new Promise((r) => setTimeout(r, 100));
  await runtime.kill(id, "SIGTERM");
  assert.equal(await running, 143);
  assert.match(out, /got-term/);
  const id2 = randomBytes(32).toString("hex");
  created.push(id2);
  let out2 = "";
  const sleeper = runtime.run({ id: id2, imageId: busyboxId, argv: ["sh", "-c", "echo ready; exec sleep 600"] }, { onStdout: (d) => (out2 += d) });
  for (let i = 0; i < 100 && !out2.includes("ready"); i++) await new Promise((r) => setTimeout(r, 100));
  await runtime.kill(id2, "TERM"); // PID 1 without a handler ignores it, as in Docker
  await new Promise((r) => setTimeout(r, 500));
  await runtime.kill(id2, "KILL");
  assert.equal(await sleeper, 137);
});

test("removeAfter (--rm): the writable layer and the cgroup go once the process ends (cleaned up after its status is reported)", { timeout: 120_000 }, async () => {
  const r = await run({ argv: ["sh", "-c", "echo left > /tmp/file; exit 2"], removeAfter: true });
  assert.equal(r.code, 2, r.stderr);
  // The run script reports the status first and cleans up in the background: wait (bounded) for that to finish.
  const left = await session!.run(
    `for i in $(seq 100); do [ -e /var/lib/hangar/containers/${r.id} ] || [ -e /sys/fs/cgroup/hangar/${r.id} ] || break; sleep 0.1; done; ls -d /var/lib/hangar/containers/${r.id} /sys/fs/cgroup/hangar/${r.id} 2>/dev/null | wc -l`,
  );
  assert.equal(left.stdout.trim(), "0");
});
