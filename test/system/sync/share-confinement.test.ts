// A hostile guest against /vagrant (the 9P server is the trust boundary for
// host files): it opens files in the share, swaps their names (or their
// folder) for symlinks to a host file outside the share, and truncates,
// writes and chmods through the handles it holds — at once, and after a
// suspend and resume (the server reopens the files from the saved state).
// Also chmod 6755 / mkdir -m 2775 as the unprivileged vagrant user. A host
// sentinel outside the share must not change; no host file becomes setuid.
//
// The attacker is a static i386 program (share-confinement-attack.c; busybox
// has no ftruncate/fchmod of an inherited descriptor) built here with
// gcc -m32 -static: the host needs gcc-multilib.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
const SENTINEL = "host file outside the share: must never change\n";
let home = "";
let project = "";
let outside = "";

async function hangar(args: string[]): Promise<string> {
  try {
    return (await exec(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, HANGAR_HOME: home }, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`hangar ${args.join(" ")} failed (${e.code}): ${e.stdout}\n${e.stderr}`);
  }
}

const guest = (command: string): Promise<string> => hangar(["ssh", "-c", command]);

async function assertOutsideUnchanged(): Promise<void> {
  assert.deepEqual(await readdir(outside), ["secret"], "nothing created or removed outside the share");
  assert.equal(await readFile(path.join(outside, "secret"), "utf8"), SENTINEL, "the outside file's content");
  const st = await stat(path.join(outside, "secret"));
  assert.equal(st.mode & 0o7777, 0o644, "the outside file's mode");
  assert.equal(st.nlink, 1);
}

before(async () => {
  // Build the attacker first: without gcc-multilib there is nothing to boot for.
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-confine-"));
  await exec("gcc", ["-m32", "-static", "-O1", "-o", path.join(project, "share-attack"), path.join(__dirname, "share-confinement-attack.c")]).catch((err: Error) => {
    throw new Error(`building the i386 attacker needs gcc-multilib (gcc -m32 -static): ${err.message}`);
  });
  outside = await mkdtemp(path.join(os.tmpdir(), "hangar-confine-outside-"));
  await writeFile(path.join(outside, "secret"), SENTINEL);
  await chmod(path.join(outside, "secret"), 0o644);
  home = await homeWithDefaultBox();
  await writeFile(
    path.join(project, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-busybox"
  config.vm.provider "hangar" do |h|
    h.memory = ${FIXTURE_MEMORY_MIB}
  end
end
`,
  );
  await hangar(["up"]);
  // Run it from the guest's own memory, not from the share the test swaps names in.
  await guest("cp /vagrant/share-attack /tmp/share-attack && chmod 755 /tmp/share-attack");
  assert.equal((await guest("id -u")).trim(), "1000", "the attacks run as the unprivileged vagrant user");
});

after(async () => {
  if (project) await hangar(["destroy", "-f"]).catch(() => undefined);
  await exec("pkill", ["-f", `daemon.js ${home}`]).catch(() => undefined);
  // The daemon may still be writing its last files as it exits: retry ENOTEMPTY.
  for (const d of [home, project, outside]) if (d) await rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("open, swap for a symlink out of the share, then truncate, write and chmod through the open handle", { timeout: 120_000 }, async () => {
  await guest("mkdir /vagrant/now");
  const out = await guest(`/tmp/share-attack /vagrant/now ${outside}`);
  assert.match(out, /swapped\n[^]*done\n/, out);
  // The guest's handles still reach the files it opened (now unlinked), as on Linux.
  assert.match(out, /pwrite f: 5\n/, out);
  assert.match(out, /pwrite d\/secret: 5\n/, out);
  await assertOutsideUnchanged();
  // What the guest made in the share is symlinks, not setuid files.
  const now = path.join(project, "now");
  assert.deepEqual((await readdir(now)).sort(), ["d", "f"]);
});

test("after suspend and resume, reopened handles do not follow a swapped symlink", { timeout: 300_000 }, async () => {
  await guest("mkdir /vagrant/resumed && rm -f /tmp/go /tmp/go.ready");
  await guest(`setsid /tmp/share-attack /vagrant/resumed ${outside} /tmp/go > /tmp/attack.log 2>&1 < /dev/null &`);
  const deadline = Date.now() + 60_000;
  while (!(await guest("test -e /tmp/go.ready && echo ready || true")).includes("ready")) {
    if (Date.now() > deadline) throw new Error(`the attacker never got ready: ${await guest("cat /tmp/attack.log")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await hangar(["suspend"]);
  await hangar(["resume"]);
  await guest("touch /tmp/go");
  let log = "";
  while (!log.includes("done\n")) {
    if (Date.now() > deadline + 120_000) throw new Error(`the attacker did not finish: ${log}`);
    await new Promise((r) => setTimeout(r, 500));
    log = await guest("cat /tmp/attack.log");
  }
  // The files cannot be reopened by their old names any more: the guest gets errors, the host keeps its file.
  assert.match(log, /pwrite d\/secret: -1 /, log);
  await assertOutsideUnchanged();
});

test("chmod 6755 and mkdir -m 2775 as the vagrant user make no setuid/setgid host file or folder", { timeout: 120_000 }, async () => {
  await guest("echo '#!/bin/sh' > /vagrant/tool && chmod 6755 /vagrant/tool && mkdir -m 2775 /vagrant/shared && mkdir /vagrant/plain && chmod 7777 /vagrant/plain");
  assert.equal((await stat(path.join(project, "tool"))).mode & 0o7777, 0o755);
  assert.equal((await stat(path.join(project, "shared"))).mode & 0o6000, 0);
  assert.equal((await stat(path.join(project, "plain"))).mode & 0o7777, 0o1777, "a sticky folder is fine");
  // Even as root in the guest.
  await guest("sudo chmod 4755 /vagrant/tool");
  assert.equal((await stat(path.join(project, "tool"))).mode & 0o7777, 0o755);
  // The guest sees what the host has.
  assert.equal((await guest("stat -c %a /vagrant/tool")).trim(), "755");
});

test("the guest's write through a held shell descriptor after a swap stays in the share (busybox only)", { timeout: 120_000 }, async () => {
  const out = await guest(
    `cd /vagrant && echo inside > held && exec 3<>held && rm held && ln -s ${outside}/secret held && printf pwned >&3 && echo wrote; ` +
      // Truncation by name: the guest resolves its own symlink, in its own namespace (no such folder there).
      `{ true > held; } 2>/dev/null || echo refused`,
  );
  assert.equal(out, "wrote\nrefused\n");
  assert.ok((await lstat(path.join(project, "held"))).isSymbolicLink(), "the guest's symlink, stored as a symlink");
  await assertOutsideUnchanged();
});
