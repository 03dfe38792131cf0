// Containers confined as runc confines them, attacked for real through the
// docker CLI: a static i386 program (built here with gcc -m32 -static) tries
// the chroot escape as root and reports what it reached; capabilities,
// mounts, masked /proc paths and no-new-privileges are read back from the
// container's own /proc; exec and cp of a container that made its /dev a
// symlink into the engine machine's host share write nothing there. The
// engine shares one host folder (a stand-in for the home folder) holding a
// secret; it must stay unread and unchanged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { EngineUnderTest } from "../fixtures/engine-under-test";

const SECRET = "the-host-secret-" + Math.random().toString(36).slice(2);
/** Docker's default capability set as /proc/PID/status prints it. */
const DEFAULT_CAPS = "00000000a80425fb";

let engine: EngineUnderTest;
let hostDir = "";
let context = "";

before(async () => {
  hostDir = await mkdtemp(path.join(os.tmpdir(), "hangar-fake-home-"));
  await writeFile(path.join(hostDir, "secret"), SECRET);
  context = await mkdtemp(path.join(os.tmpdir(), "hangar-escape-ctx-"));
  execFileSync("gcc", ["-m32", "-static", "-O2", "-o", path.join(context, "escape"), path.join(__dirname, "attacks", "chroot-escape.c")]);
  // The engine shares only hostDir: it is /var/lib/hangar/host/0 in the engine machine.
  engine = await EngineUnderTest.start({ env: { HANGAR_ENGINE_SHARES: hostDir } });
  await writeFile(path.join(context, "Dockerfile"), "FROM busybox\nCOPY escape /escape\nENV B=2\nRUN /escape /var/lib/hangar/host/0/secret > /run-step.txt\n");
  await engine.docker(["build", "-q", "-t", "escape", context]);
});

after(async () => {
  await engine?.stop();
  await rm(hostDir, { recursive: true, force: true });
  await rm(context, { recursive: true, force: true });
});

async function hostUnchanged(): Promise<void> {
  assert.deepEqual((await readdir(hostDir)).sort(), ["secret"], "nothing new appeared in the shared host folder");
  assert.equal(await readFile(path.join(hostDir, "secret"), "utf8"), SECRET);
}

function caps(status: string): Record<string, string> {
  return Object.fromEntries([...status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1], m[2]]));
}

test("a root process that escapes its chroot reaches no host file and cannot mount (docker run and a Dockerfile RUN step)", async () => {
  const run = await engine.docker(["run", "--rm", "escape", "/escape", "/var/lib/hangar/host/0/secret"]);
  assert.doesNotMatch(run.stdout, /REACHED/, run.stdout);
  assert.match(run.stdout, /not reached \/var\/lib\/hangar\/host\/0\/secret/);
  assert.match(run.stdout, /mount tmpfs: Operation not permitted/);
  assert.match(run.stdout, /mount 9p: Operation not permitted/);
  // What it reached is the read-only tools folder the container was pivoted into, not the engine machine's root.
  const root = /^root:(.*)$/m.exec(run.stdout)?.[1].split(" ") ?? [];
  assert.ok(!root.includes("var") && !root.includes("etc"), `escaped to: ${root.join(" ")}`);
  const step = await engine.docker(["run", "--rm", "escape", "cat", "/run-step.txt"]);
  assert.doesNotMatch(step.stdout, /REACHED/, step.stdout);
  assert.match(step.stdout, /not reached/);
  await hostUnchanged();
});

test("capabilities are Docker's default set, and --cap-add, --cap-drop, --privileged change them as Docker does", async () => {
  const status = async (...opts: string[]): Promise<Record<string, string>> => caps((await engine.docker(["run", "--rm", ...opts, "busybox", "cat", "/proc/self/status"])).stdout);
  const plain = await status();
  assert.deepEqual(plain, { CapInh: "0000000000000000", CapPrm: DEFAULT_CAPS, CapEff: DEFAULT_CAPS, CapBnd: DEFAULT_CAPS, CapAmb: "0000000000000000" });
  const added = await status("--cap-add", "SYS_ADMIN", "--cap-add", "cap_net_admin");
  assert.equal(added.CapEff, (0xa80425fbn | (1n << 21n) | (1n << 12n)).toString(16).padStart(16, "0"));
  const dropped = await status("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE");
  assert.equal(dropped.CapEff, (1n << 10n).toString(16).padStart(16, "0"));
  assert.equal(dropped.CapBnd, dropped.CapEff);
  assert.equal((await status("--cap-drop", "ALL")).CapBnd, "0000000000000000");
  const privileged = await status("--privileged");
  assert.equal(privileged.CapEff, "000001ffffffffff");
  // Without CHOWN, root cannot give a file away.
  const chown = await engine.docker(["run", "--rm", "--cap-drop", "CHOWN", "busybox", "sh", "-c", "touch /f && chown 1:1 /f"], true);
  assert.notEqual(chown.code, 0);
  const bad = await engine.docker(["run", "--rm", "--cap-add", "NOT_A_CAP", "busybox", "true"], true);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown capability: "(CAP_)?NOT_A_CAP"/);
});

test("mounts: the engine machine's are not in the container; tmpfs only with --privileged; /proc masked and read-only", async () => {
  const mounts = (await engine.docker(["run", "--rm", "busybox", "cat", "/proc/mounts"])).stdout;
  const points = mounts
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" "));
  assert.ok(
    points.every(([, where, type]) => type !== "9p" && !where.startsWith("/var/lib/hangar") && !where.startsWith("/mnt")),
    mounts,
  );
  assert.deepEqual(points[0].slice(1, 3), ["/", "overlay"]);
  const tmpfs = await engine.docker(["run", "--rm", "busybox", "sh", "-c", "mkdir -p /m && mount -t tmpfs none /m"], true);
  assert.notEqual(tmpfs.code, 0, "mount -t tmpfs in a default container");
  assert.match(tmpfs.stderr, /permission denied|not permitted/i);
  const privileged = await engine.docker(["run", "--rm", "--privileged", "busybox", "sh", "-c", "mkdir -p /m && mount -t tmpfs none /m && grep -c ' /m ' /proc/mounts"]);
  assert.equal(privileged.stdout.trim(), "1");
  const proc = await engine.docker(
    [
      "run",
      "--rm",
      "busybox",
      "sh",
      "-c",
      "wc -c < /proc/kcore; echo 1 > /proc/sysrq-trigger && echo wrote-sysrq; echo x > /proc/sys/kernel/core_pattern && echo wrote-core-pattern; grep -E ' /proc/(sys|sysrq-trigger) ' /proc/mounts",
    ],
    true,
  );
  assert.doesNotMatch(proc.stdout, /wrote-/, proc.stdout + proc.stderr);
  assert.match(proc.stdout, /^0$/m, "/proc/kcore is masked");
  assert.match(proc.stdout, / \/proc\/sys proc ro/);
});

test("--security-opt no-new-privileges sets the bit; the environment is exactly Docker's", async () => {
  const nnp = await engine.docker(["run", "--rm", "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs", "/proc/self/status"]);
  assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
  const plain = await engine.docker(["run", "--rm", "busybox", "grep", "NoNewPrivs", "/proc/self/status"]);
  assert.match(plain.stdout, /NoNewPrivs:\s+0/);
  const env = (await engine.docker(["run", "--rm", "--hostname", "box1", "escape", "env"])).stdout.split("\n").filter(Boolean).sort();
  assert.deepEqual(env, ["B=2", "HOME=/root", "HOSTNAME=box1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
});

test("docker exec and docker cp get the same confinement", async () => {
  const id = (await engine.docker(["run", "-d", "escape", "sleep", "300"])).stdout.trim();
  try {
    assert.equal(caps((await engine.docker(["exec", id, "cat", "/proc/self/status"])).stdout).CapEff, DEFAULT_CAPS);
    const escape = await engine.docker(["exec", id, "/escape", "/var/lib/hangar/host/0/secret"]);
    assert.doesNotMatch(escape.stdout, /REACHED|MOUNTED/, escape.stdout);
    assert.match((await engine.docker(["exec", "--privileged", id, "cat", "/proc/self/status"])).stdout, /CapEff:\s+000001ffffffffff/);
    await engine.docker(["cp", path.join(context, "Dockerfile"), `${id}:/Dockerfile`]);
    assert.match((await engine.docker(["exec", id, "cat", "/Dockerfile"])).stdout, /FROM busybox/);
  } finally {
    await engine.docker(["rm", "-f", id], true);
  }
  await hostUnchanged();
});

test("a container that replaced its /dev with a symlink into the host share: exec, cp and a restart put nothing there", async () => {
  // With SYS_ADMIN the container can unmount its /dev and leave a symlink to where the engine machine keeps the host share.
  const id = (await engine.docker(["run", "-d", "--cap-add", "SYS_ADMIN", "escape", "sleep", "300"])).stdout.trim();
  try {
    await engine.docker(["exec", id, "sh", "-c", "umount -l /dev && rm -rf /dev && ln -s /var/lib/hangar/host/0 /dev"]);
    await engine.docker(["exec", id, "true"], true);
    await engine.docker(["cp", path.join(context, "Dockerfile"), `${id}:/Dockerfile`], true);
    await engine.docker(["cp", `${id}:/escape`, path.join(context, "copied")], true);
    await hostUnchanged();
    // Started again, its layer still holds the symlink: the run script's /dev and device nodes stay inside.
    await engine.docker(["kill", id]);
    await engine.docker(["start", id], true);
    await engine.docker(["exec", id, "true"], true);
    await engine.docker(["kill", id], true);
    // Stopped, the same for docker cp.
    await engine.docker(["cp", path.join(context, "Dockerfile"), `${id}:/Dockerfile2`], true);
  } finally {
    await engine.docker(["rm", "-f", id], true);
  }
  await hostUnchanged();
});
