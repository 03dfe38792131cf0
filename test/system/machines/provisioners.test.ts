// Shell and file provisioners as Vagrant 2.3 runs them, on one real machine
// driven by the built `hangar` CLI: a path script with Array args and env
// (run directly, CRLF endings converted, as root through sudo), one as the SSH
// user from its own upload_path, folders copied by the file provisioner's
// rules with a host symlink never followed, and the run: once/always/never
// rules across up, reload and provision --provision-with.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { homeWithDefaultBox } from "../fixtures/default-box-home";
import { runCommand, type Run } from "../fixtures/command-run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let project = "";
let outside = "";

const VAGRANTFILE = `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-busybox"
  config.vm.provider "hangar" do |h|
    h.memory = 128
  end
  # As root (privileged, through sudo): Array args are quoted one by one, so $HOME expands in the guest.
  config.vm.provision "shell", path: "scripts/report.sh", args: ["two words", "$HOME", 'say "hi"'], env: { "GREETING" => "hello there" }
  # As the SSH user, from its own upload_path; a String of args is split by the guest's shell.
  config.vm.provision "as-user", type: "shell", path: "scripts/report.sh", args: "one two", privileged: false, upload_path: "/home/vagrant/provision/run.sh"
  # Run directly, so the shebang picks the interpreter.
  config.vm.provision "shell", inline: "#!/bin/awk -f\\nBEGIN { print \\"awk ran\\" }"
  config.vm.provision "file", source: "files", destination: "~/dest"
  config.vm.provision "file", source: "files", destination: "~/into/"
  config.vm.provision "file", source: "files/.", destination: "~/dot"
  config.vm.provision "counted", type: "shell", inline: "echo x >> /root/once.count"
  config.vm.provision "every-time", type: "shell", inline: "echo x >> /root/always.count; echo always run $(wc -l < /root/always.count)", run: "always"
  config.vm.provision "seed", type: "shell", inline: "echo seeded > /root/seeded", run: "never"
end
`;

// CRLF line endings, as a script checked out on Windows has them: "#!/bin/sh\\r" would be no interpreter.
const REPORT = [
  "#!/bin/sh",
  'echo "uid=$(id -u) home=$HOME pwd=$(pwd) self=$0"',
  '[ "$(id -u)" = 0 ] || echo "user=$(id -un)"',
  'for a in "$@"; do echo "arg=[$a]"; done',
  'echo "greeting=[$GREETING]"',
  "",
].join("\r\n");

async function hangar(args: string[], allowFail = false): Promise<Run> {
  return runCommand(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, HANGAR_HOME: home }, allowFail, timeoutMs: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

after(async () => {
  if (!home) return;
  await hangar(["destroy", "-f"], true).catch(() => undefined);
  const { stdout } = await exec("pgrep", ["-f", `daemon.js ${home}`]).catch(() => ({ stdout: "" }));
  for (const pid of stdout.split("\n").filter(Boolean)) process.kill(Number(pid), "SIGTERM");
  for (const d of [home, project, outside]) await rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("shell and file provisioners run on a real guest as Vagrant runs them", { timeout: 300_000 }, async () => {
  home = await homeWithDefaultBox();
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-provisioners-"));
  outside = await mkdtemp(path.join(os.tmpdir(), "hangar-outside-"));
  await writeFile(path.join(project, "Vagrantfile"), VAGRANTFILE);
  await mkdir(path.join(project, "scripts"));
  await writeFile(path.join(project, "scripts", "report.sh"), REPORT);
  await mkdir(path.join(project, "files", "nested", "deeper"), { recursive: true });
  await writeFile(path.join(project, "files", "top.txt"), "top\n");
  await writeFile(path.join(project, "files", "nested", "deeper", "deep.txt"), "deep\n");
  // A symlink in the project to a host file outside it: its content must never reach the guest.
  await writeFile(path.join(outside, "shadow"), "HOST-SECRET-7d3b\n");
  await symlink(path.join(outside, "shadow"), path.join(project, "files", "escape"));

  const up = await hangar(["up"]);
  const report = path.join(project, "scripts", "report.sh");
  const lines = (s: string): string[] => s.split("\n").filter((l) => l.startsWith("default: "));
  // (from the first provisioner on: a taken port 2222 adds a line before)
  const ran = lines(up.stdout);
  const first = ran.indexOf("default: Running provisioner: shell...");
  assert.deepEqual(ran.slice(first, first + 17), [
    "default: Running provisioner: shell...",
    `default: Running: ${report}`,
    "default: uid=0 home=/root pwd=/home/vagrant self=/tmp/vagrant-shell",
    "default: arg=[two words]",
    "default: arg=[/root]",
    'default: arg=[say "hi"]',
    "default: greeting=[hello there]",
    "default: Running provisioner: as-user (shell)...",
    `default: Running: ${report}`,
    "default: uid=1000 home=/home/vagrant pwd=/home/vagrant self=/home/vagrant/provision/run.sh",
    "default: user=vagrant",
    "default: arg=[one]",
    "default: arg=[two]",
    "default: greeting=[]",
    "default: Running provisioner: shell...",
    "default: Running: inline script",
    "default: awk ran",
  ]);
  assert.match(up.stdout, /^default: Running provisioner: file\.\.\.\ndefault: files => ~\/dest$/m);
  assert.match(up.stdout, /^default: files => ~\/into\/$/m);
  assert.match(up.stdout, /^default: files\/\. => ~\/dot$/m);
  assert.match(up.stdout, /^default: always run 1$/m);
  assert.match(up.stderr, /^default: escape is a symlink to outside files: copied as a link, not followed\.$/m);
  assert.doesNotMatch(up.stdout, /seed/, "run: never does not run on up");

  // The files are the SSH user's; a folder's contents go into ~/dest and ~/dot ("files/."), the folder itself into ~/into/.
  const guest = await hangar([
    "ssh",
    "-c",
    "cd ~ && find dest into dot | sort && find dest into dot ! -type l ! -user vagrant && cat dest/nested/deeper/deep.txt into/files/top.txt dot/top.txt " +
      "&& readlink dest/escape && (grep -rs HOST-SECRET . || echo no secret) && ls -ln provision/run.sh | awk '{print $1, $3}' " +
      "&& sudo cat /root/once.count /root/always.count && (sudo cat /root/seeded 2>/dev/null || echo not seeded)",
  ]);
  const tree = ["", "/escape", "/nested", "/nested/deeper", "/nested/deeper/deep.txt", "/top.txt"];
  assert.equal(
    guest.stdout,
    [
      ...["dest", "dot", "into", "into/files"].flatMap((d) => (d === "into" ? [d] : tree.map((t) => d + t))),
      "deep",
      "top",
      "top",
      path.join(outside, "shadow"),
      "no secret",
      "-rwxr-xr-x 1000",
      "x",
      "x",
      "not seeded",
      "",
    ].join("\n"),
  );

  // reload: `always` ones run again, `once` ones do not.
  const reload = await hangar(["reload"]);
  assert.match(reload.stdout, /^default: Machine already provisioned\. Run `hangar provision`/m);
  assert.match(reload.stdout, /^default: always run 2$/m);
  assert.doesNotMatch(reload.stdout, /uid=|awk ran|files =>/, "once provisioners ran only on the first up");

  // run: never only when --provision-with names it; an unknown name is refused in Vagrant's words, before anything runs.
  const seeded = await hangar(["provision", "--provision-with", "seed"]);
  assert.deepEqual(lines(seeded.stdout), ["default: Running provisioner: seed (shell)...", "default: Running: inline script"]);
  const unknown = await hangar(["provision", "--provision-with", "sed"], true);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /'sed' is not a known provisioner\. Please specify a valid provisioner\./);
  assert.equal((await hangar(["ssh", "-c", "sudo cat /root/seeded /root/once.count /root/always.count"])).stdout, "seeded\nx\nx\nx\n");
});
