// The embedded machine lifecycle end to end, as a user drives it: the built
// `hangar` CLI builds the default box from the real Debian repository (mirror
// from this machine's apt configuration), then up, ssh -c, suspend/resume,
// halt, destroy on a real guest.
import { after, afterEach, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { copySharedCache, homeWithDefaultBox, sharedBoxDir } from "../fixtures/default-box-home";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
// Each test has a HANGAR_HOME and a project of its own (made by `setUp`), so none depends on another having run.
let home = "";
let project = "";
const made: Array<{ home: string; project: string }> = [];

/** A fresh home (`withBox`: holding the shared default box and its booted state) and a project with this file's Vagrantfile. */
async function setUp(withBox: boolean): Promise<void> {
  home = withBox ? await homeWithDefaultBox() : await mkdtemp(path.join(os.tmpdir(), "hangar-home-"));
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-project-"));
  made.push({ home, project });
  await writeFile(
    path.join(project, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-busybox"
  config.vm.hostname = "lifecycle"
  config.vm.provider "hangar" do |h|
    h.memory = 128
  end
  config.vm.provision "shell", inline: "echo provisioned on $(hostname) > /root/provisioned; cat /vagrant/project.txt"
  config.vm.provision "failing", type: "shell", inline: "echo about to fail; exit 3", run: "never"
end
`,
  );
  await writeFile(path.join(project, "project.txt"), "a file from the project folder\n");
}

/** Each CLI call's duration (HANGAR_TEST_TIMINGS=1 prints them after each test: where this file's minutes go). */
const timings: string[] = [];

async function hangar(args: string[], allowFail = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const started = performance.now();
  try {
    return await hangarOnce(args, allowFail);
  } finally {
    timings.push(`${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s  hangar ${args.join(" ")}`);
  }
}

afterEach(() => {
  if (process.env.HANGAR_TEST_TIMINGS) console.log(timings.splice(0).join("\n"));
  timings.length = 0;
});

async function hangarOnce(args: string[], allowFail: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, HANGAR_HOME: home }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (!allowFail) throw new Error(`hangar ${args.join(" ")} failed (${e.code}): ${e.stderr}`);
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The one box version folder under a boxes/ folder (boxes/<name>/<version>/embedded). */
async function onlyBoxDir(boxes: string): Promise<string> {
  const [name] = await readdir(boxes);
  const [version] = await readdir(path.join(boxes, name));
  return path.join(boxes, name, version, "embedded");
}

async function sha256Of(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

/** The pids of this home's machine daemon (its command line names the home). */
async function daemonPids(): Promise<number[]> {
  const { stdout } = await exec("pgrep", ["-f", `daemon.js ${home}`]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number);
}

/** Until none of `pids` is alive (a killed process is gone a moment after the signal). */
async function waitGone(pids: number[], ms = 30_000): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

after(async () => {
  for (const m of made) {
    ({ home, project } = m);
    await hangar(["destroy", "-f"], true).catch(() => undefined);
    // Stop this test's machine daemon (it would otherwise exit on its own when idle).
    for (const pid of await daemonPids()) process.kill(pid, "SIGTERM");
    // (the stopping daemon may still write into the home for a moment: rm retries ENOTEMPTY)
    await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    await rm(project, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});

test("box build → up → ssh -c → suspend/resume → halt → destroy on a real guest", { timeout: 600_000 }, async () => {
  await setUp(false);
  // The shared test box's Debian downloads: the build below reads the mirror's Release and index, and takes the
  // packages from the cache (verified against the index) instead of downloading them a second time in this run.
  await copySharedCache(home);

  const built = await hangar(["box", "build"]);
  assert.match(built.stdout, /^Built hangar\/debian-busybox 1\.\d+\.\d+/m);
  const sha = /initramfs sha256 ([0-9a-f]{64})/.exec(built.stdout)?.[1];
  assert.ok(sha, built.stdout);
  assert.match((await hangar(["box", "list"])).stdout, /^hangar\/debian-busybox\s+\(embedded, 1\.\d+\.\d+\)$/m);
  // Same packages in, same box out: this run's shared box was built from the same cache, and its files are these.
  const shared = await onlyBoxDir(await sharedBoxDir());
  const mine = await onlyBoxDir(path.join(home, "boxes"));
  for (const file of ["vmlinuz", "initrd.img", "bios.bin", "vgabios-stdvga.bin"]) assert.equal(await sha256Of(path.join(mine, file)), await sha256Of(path.join(shared, file)), file);
  assert.equal(await sha256Of(path.join(mine, "initrd.img")), sha);
  // So the booted state the shared fixture made (its cold boot, which every system test stands on) is this box's too:
  // the first up restores it, as a second up on a user's machine does, instead of booting cold once more.
  for (const f of (await readdir(shared)).filter((n) => /^booted-.*\.state$/.test(n))) await cp(path.join(shared, f), path.join(mine, f));
  assert.match((await hangar(["status"])).stdout, /default\s+not created/);

  let t = performance.now();
  const upOut = await hangar(["up"]);
  const firstUp = performance.now() - t;
  // First up: the project folder is at /vagrant and provisioners ran, output prefixed with the machine's name.
  assert.match(upOut.stdout, /^default: a file from the project folder$/m);
  assert.equal((await hangar(["ssh", "-c", "sudo cat /root/provisioned /vagrant/project.txt"])).stdout, "provisioned on lifecycle\na file from the project folder\n");
  const failed = await hangar(["provision", "--provision-with", "failing"], true);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^default: about to fail$/m);
  assert.match(failed.stderr, /exited with status 3/);
  assert.match((await hangar(["status"])).stdout, /default\s+running/);

  const uname = await hangar(["ssh", "-c", "uname -m; hostname"]);
  assert.equal(uname.stdout, "i686\nlifecycle\n");
  const failing = await hangar(["ssh", "-c", "echo out; echo err >&2; exit 7"], true);
  assert.deepEqual([failing.code, failing.stdout, failing.stderr.trim()], [7, "out\n", "err"]);

  // Piped stdin reaches the command, as with `ssh host cmd < file`.
  const piped = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [CLI, "ssh", "-c", "sh -s"], { cwd: project, env: { ...process.env, HANGAR_HOME: home } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end("echo piped-$((6*7)); id -un\n");
  });
  assert.equal(piped, "piped-42\nvagrant\n");

  // The serial console: a root shell that needs no network (piped input is typed, output followed).
  const consoleOut = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, [CLI, "console"], { cwd: project, env: { ...process.env, HANGAR_HOME: home } }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end("echo via-console-$((6*7))\n");
  });
  assert.match(consoleOut, /^via-console-42\r?$/m);

  // /vagrant is the project folder itself (9p), both ways, live: no copy, no sync delay.
  await writeFile(path.join(project, "edited-on-host.txt"), "host edit\n");
  assert.equal((await hangar(["ssh", "-c", "cat /vagrant/edited-on-host.txt"])).stdout, "host edit\n");
  await hangar(["ssh", "-c", "mkdir -p /vagrant/build && echo artifact > /vagrant/build/out.txt && mv /vagrant/edited-on-host.txt /vagrant/build/renamed.txt && chmod +x /vagrant/build/out.txt"]);
  assert.equal(await readFile(path.join(project, "build", "out.txt"), "utf8"), "artifact\n");
  assert.equal(await readFile(path.join(project, "build", "renamed.txt"), "utf8"), "host edit\n");
  assert.ok(!existsSync(path.join(project, "edited-on-host.txt")));
  assert.ok(((await stat(path.join(project, "build", "out.txt"))).mode & 0o111) !== 0, "the exec bit reaches the host");

  // Snapshots: restore brings an earlier guest file back.
  await hangar(["ssh", "-c", "echo before | sudo tee /root/snap.txt >/dev/null"]);
  await hangar(["snapshot", "save", "first"]);
  await hangar(["ssh", "-c", "echo after | sudo tee /root/snap.txt >/dev/null"]);
  assert.match((await hangar(["snapshot", "list"])).stdout, /^first\s/m);
  await hangar(["snapshot", "restore", "first"]);
  assert.equal((await hangar(["ssh", "-c", "sudo cat /root/snap.txt; ls /vagrant/build"])).stdout, "before\nout.txt\nrenamed.txt\n");
  await hangar(["snapshot", "delete", "first"]);

  await hangar(["ssh", "-c", "echo kept | sudo tee /root/marker >/dev/null"]);
  await hangar(["suspend"]);
  assert.match((await hangar(["status"])).stdout, /default\s+saved/);
  // Suspended states are compressed: well under the guest's 128 MiB, and under the raw booted state.
  const saved = (await stat(path.join(project, ".hangar", "machines", "default", "saved.state"))).size;
  assert.ok(saved < 30 * 1024 * 1024, `saved state is ${saved} bytes`);
  t = performance.now();
  await hangar(["resume"]);
  const resume = performance.now() - t;
  assert.equal((await hangar(["ssh", "-c", "sudo cat /root/marker; cat /vagrant/build/out.txt"])).stdout, "kept\nartifact\n");

  // halt keeps the guest's files (its disk), and the next up neither loses them nor provisions again.
  await hangar(["ssh", "-c", "sudo rm /etc/shells"]);
  await hangar(["halt"]);
  assert.match((await hangar(["status"])).stdout, /default\s+poweroff/);
  t = performance.now();
  const again = await hangar(["up"]);
  const warmUp = performance.now() - t;
  assert.doesNotMatch(again.stdout, /a file from the project folder/, "provisioners run on the first up only");
  assert.equal(
    (await hangar(["ssh", "-c", "hostname; sudo cat /root/marker /root/provisioned; test -e /etc/shells || echo deleted stays deleted"])).stdout,
    "lifecycle\nkept\nprovisioned on lifecycle\ndeleted stays deleted\n",
  );
  // halt -f powers off without keeping them: the next up starts from the box and provisions again.
  await hangar(["ssh", "-c", "echo lost | sudo tee /root/after-disk >/dev/null"]);
  await hangar(["halt", "-f"]);
  const fresh = await hangar(["up"]);
  assert.match(fresh.stdout, /^default: a file from the project folder$/m);
  assert.equal((await hangar(["ssh", "-c", "sudo cat /root/marker /root/after-disk 2>&1; true"])).stdout.includes("lost"), false);

  await hangar(["destroy", "-f"]);
  assert.match((await hangar(["status"])).stdout, /default\s+not created/);
  assert.ok(!existsSync(path.join(project, ".hangar", "machines", "default")), "destroy leaves nothing behind");
  console.log(`first up ${Math.round(firstUp)} ms (from the box's booted state), resume ${Math.round(resume)} ms, up from booted state ${Math.round(warmUp)} ms`);
});

test("a killed CLI mid-up or a killed daemon leaves an honest state, and the next up recovers", { timeout: 300_000 }, async () => {
  await setUp(true);
  // The CLI killed while it brings the machine up (once it reports its first step): the next up still works.
  const child = execFile(process.execPath, [CLI, "up"], { cwd: project, env: { ...process.env, HANGAR_HOME: home } });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 60_000);
    const underway = (): void => {
      clearTimeout(timer);
      resolve();
    };
    child.stderr!.on("data", (d: Buffer) => {
      if (d.toString().includes("==> ")) underway();
    });
    child.once("exit", underway);
  });
  child.kill("SIGKILL");
  await hangar(["up"]);
  assert.equal((await hangar(["ssh", "-c", "echo alive"])).stdout, "alive\n");
  // The daemon holding the machine dies: the machine is reported aborted, not running, and up starts it again.
  const daemons = await daemonPids();
  await exec("pkill", ["-9", "-f", `daemon.js ${home}`]);
  await waitGone(daemons);
  assert.match((await hangar(["status"])).stdout, /default\s+aborted/);
  assert.match((await hangar(["global-status"])).stdout, new RegExp(`default\\s+aborted\\s+hangar/debian-busybox\\s+${project.replace(/[/\\]/g, ".")}`));
  await hangar(["up"]);
  assert.equal((await hangar(["ssh", "-c", "echo recovered"])).stdout, "recovered\n");
  await hangar(["destroy", "-f"]);
});

test("a broken Vagrantfile and a damaged box give clear errors and change nothing", { timeout: 120_000 }, async () => {
  await setUp(true);
  const vagrantfile = path.join(project, "Vagrantfile");
  const good = await readFile(vagrantfile, "utf8");
  await writeFile(vagrantfile, good.replace('config.vm.hostname = "lifecycle"', 'config.vm.hostname = "lifecycle"\n  config.vm.memroy = 1'));
  const broken = await hangar(["up"], true);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /Vagrantfile has errors \(.*Vagrantfile:4\): vm: The following settings shouldn't exist: config\.vm\.memroy/);
  assert.ok(!existsSync(path.join(project, ".hangar", "machines", "default")), "a broken Vagrantfile creates no machine");
  await writeFile(vagrantfile, good);

  const boxDir = (await hangar(["box", "list", "--json"])).stdout;
  const dir = (JSON.parse(boxDir) as { boxes: Array<{ path: string }> }).boxes[0].path;
  const metadata = await readFile(path.join(dir, "metadata.json"), "utf8");
  await writeFile(path.join(dir, "metadata.json"), metadata.slice(0, 40));
  try {
    assert.match((await hangar(["box", "list"])).stdout, /metadata\.json is not valid JSON/);
    const damaged = await hangar(["up"], true);
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /box '?hangar\/debian-busybox'? .*is not installed|no readable metadata\.json/);
    assert.match((await hangar(["status"])).stdout, /default\s+(not created|poweroff)/);
  } finally {
    await writeFile(path.join(dir, "metadata.json"), metadata);
  }
});
