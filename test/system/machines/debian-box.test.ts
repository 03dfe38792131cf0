// hangar/debian-bookworm as a Vagrant user meets it, driven by the built CLI:
// the box, built from Debian packages once per machine (debian-box-home.ts;
// its second stage really configures them in the emulator), is fsck-clean
// with every package configured; a Vagrantfile that provisions with apt
// comes up and the package's service answers on a forwarded port; OpenSSH's
// ssh and scp work through ssh-config; its root is a disk that keeps a 200 MB
// file across halt and up and across a killed daemon, is fsck-clean after
// halt, a snapshot takes the disk with the memory, and `box package` makes a
// box of it whose machines have its files, on a bigger disk
// (config.vm.disk) whose file system grows at boot.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { CowDisk } from "../../../src/core/emulator/cow-disk";
import { SHARED_CACHE } from "../fixtures/default-box-home";
import { copyDebianBox } from "../fixtures/debian-box-home";
import { freePort } from "../fixtures/openssh-server";
import { runCommand, type Run } from "../fixtures/command-run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let project = "";
let port = 0;
/** The first machine's SSH host key, which a machine made from its packaged box must not share. */
let hostKey = "";

async function hangar(args: string[], o: { allowFail?: boolean; timeoutMs?: number } = {}): Promise<Run> {
  return runCommand(process.execPath, [CLI, ...args], {
    cwd: project,
    env: { ...process.env, HANGAR_HOME: home },
    allowFail: o.allowFail ?? false,
    timeoutMs: o.timeoutMs ?? 300_000,
    maxBuffer: 32 * 1024 * 1024,
  });
}

const guest = async (command: string): Promise<string> => (await hangar(["ssh", "-c", command])).stdout;

before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-debian-"));
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-debian-project-"));
  // Debian downloads are shared with the other system tests (content-addressed).
  await mkdir(SHARED_CACHE, { recursive: true });
  await symlink(SHARED_CACHE, path.join(home, "cache"));
  port = await freePort();
  await writeFile(path.join(project, "from-host.txt"), "written on the host\n");
  await writeFile(
    path.join(project, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-bookworm"
  config.vm.network "forwarded_port", guest: 80, host: ${port}
  config.vm.provision "shell", inline: "apt-get update && apt-get install -y nginx && echo served-by-hangar > /var/www/html/index.html"
end
`,
  );
});

after(async () => {
  if (!home) return;
  await hangar(["destroy", "-f"], { allowFail: true }).catch(() => undefined);
  await exec("pkill", ["-9", "-f", `daemon.js ${home}`]).catch(() => undefined);
  await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  await rm(project, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("the built box's disk image is fsck-clean, sparse, with every package configured; box build names the built-in boxes", { timeout: 1_200_000 }, async () => {
  await copyDebianBox(home);
  const image = path.join(await findBoxDir(), "disk.img");
  const st = await stat(image);
  assert.equal(st.size, 8 * 1024 ** 3);
  assert.ok(st.blocks * 512 < 600 * 1024 ** 2, `the 8 GiB image is sparse (${Math.round((st.blocks * 512) / 1024 ** 2)} MiB used)`);
  await exec("e2fsck", ["-fn", image]);
  const status = (await exec("debugfs", ["-R", "cat /var/lib/dpkg/status", image], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  const packages = [...status.matchAll(/^Package: (.+)$/gm)].map((m) => m[1]);
  for (const p of ["apt", "openssh-server", "sudo", "ca-certificates", "iproute2", "dpkg"]) assert.ok(packages.includes(p), `${p} is installed`);
  const states = [...status.matchAll(/^Status: (.+)$/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(states)], ["install ok installed"], "the second stage configured every package");
  assert.match((await hangar(["box", "list"])).stdout, /hangar\/debian-bookworm/);
  const wrong = await hangar(["box", "build", "hangar/debian-sid"], { allowFail: true });
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /not a built-in box.*hangar\/debian-busybox or hangar\/debian-bookworm/);
});

test("a Vagrantfile that provisions with apt comes up: nginx from the mirror through NAT and DNS, on a forwarded port", { timeout: 900_000 }, async () => {
  const up = await hangar(["up"], { timeoutMs: 900_000 });
  assert.match(up.stdout, /Setting up nginx/);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal((await page.text()).trim(), "served-by-hangar");
  assert.match(await guest("cat /etc/debian_version; cat /vagrant/from-host.txt; id -un; sudo -n id -un; findmnt -no FSTYPE /"), /^12\.\d+\nwritten on the host\nvagrant\nroot\next4\n$/);
  // The guest's 9p mount shows the synced folder alone: its own disk's overlay files (the busybox box's "disk" share) are not the guest's to reach.
  assert.equal((await guest("ls /mnt/host9p")).trim(), "s0");
});

test("OpenSSH's ssh and scp reach it through ssh-config", { timeout: 120_000 }, async () => {
  const config = path.join(project, "ssh_config");
  await writeFile(config, (await hangar(["ssh-config"])).stdout);
  const ssh = await exec("ssh", ["-F", config, "default", "uname -m; echo $SHELL"]);
  assert.match(ssh.stdout, /^i686\n\/bin\/bash\n$/);
  await writeFile(path.join(project, "up.txt"), "copied up\n");
  await exec("scp", ["-F", config, path.join(project, "up.txt"), "default:/tmp/up.txt"]);
  await exec("scp", ["-F", config, "default:/tmp/up.txt", path.join(project, "down.txt")]);
  assert.equal((await exec("cat", [path.join(project, "down.txt")])).stdout, "copied up\n");
});

test("the root is a disk: a 200 MB file survives a snapshot, a killed daemon, halt and up; fsck-clean after; box package makes a box of it", { timeout: 900_000 }, async () => {
  // md5, not sha256: the emulated guest hashes 200 MB with md5 in 2 s, with sha256 in 26 s. A random 4 KB line repeated:
  // no 64 KiB chunk is zeros (a lost chunk reads back as zeros and changes the sum), yet the packaged box below compresses
  // it, and the guest writes it in seconds (200 MB from /dev/urandom took it 21 s).
  const sum = (await guest('yes "$(head -c 3000 /dev/urandom | base64 -w0)" | head -c 200000000 > /home/vagrant/big && md5sum /home/vagrant/big')).split(" ")[0];
  assert.match(sum, /^[0-9a-f]{32}$/);
  const md5 = async (): Promise<string> => (await guest("md5sum /home/vagrant/big")).split(" ")[0];

  await guest("echo before > /home/vagrant/mark");
  await hangar(["snapshot", "save", "s1"]);
  await guest("echo after > /home/vagrant/mark; rm /home/vagrant/big; sync");
  await hangar(["snapshot", "restore", "s1"]);
  assert.equal((await guest("cat /home/vagrant/mark")).trim(), "before", "the snapshot's disk came back with its memory");
  assert.equal(await md5(), sum, "with the file deleted after the snapshot");

  // The daemon killed mid-run: the journal makes the disk whole at the next boot.
  await guest("echo survived > /home/vagrant/killed; sync");
  await exec("pkill", ["-9", "-f", `daemon.js ${home}`]);
  await hangar(["up"]);
  assert.equal((await guest("cat /home/vagrant/killed")).trim(), "survived");
  assert.equal(await md5(), sum);

  await hangar(["halt"]);
  const diskDir = path.join(project, ".hangar", "machines", "default", "disk");
  assert.deepEqual((await readdir(diskDir)).sort(), ["root.data", "root.map"]);
  await fsckMachineDisk(path.join(diskDir, "root"));
  await hangar(["up"]);
  assert.equal(await md5(), sum, "after halt and up");
  // Enabled services start at boot, as under sysvinit.
  assert.equal((await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim(), "served-by-hangar");

  hostKey = (await guest("cat /etc/ssh/ssh_host_ed25519_key.pub")).trim();
  await hangar(["box", "package", "--output", "debian-packaged.box"], { timeoutMs: 600_000 });
  const packaged = await stat(path.join(project, "debian-packaged.box"));
  assert.ok(packaged.size < 700 * 1024 ** 2, `the .box is ${packaged.size} bytes`);
  await hangar(["box", "add", path.join(project, "debian-packaged.box"), "--name", "test/debian-packaged"], { timeoutMs: 600_000 });
  await rm(path.join(project, "debian-packaged.box"));
  await hangar(["destroy", "-f"]);
  assert.deepEqual(await readdir(diskDir).catch(() => []), [], "destroy removes the disk");
});

test('a machine of the packaged box has its files; config.vm.disk :disk, size: "10GB", primary: true grows its root; smaller than the box\'s is refused', { timeout: 600_000 }, async () => {
  const other = await mkdtemp(path.join(os.tmpdir(), "hangar-debian-packaged-"));
  const inOther = (args: string[], allowFail = false): Promise<Run> =>
    runCommand(process.execPath, [CLI, ...args], { cwd: other, env: { ...process.env, HANGAR_HOME: home }, allowFail, timeoutMs: 300_000, maxBuffer: 16 * 1024 * 1024 });
  const vagrantfile = (size: string): string => `Vagrant.configure("2") do |config|\n  config.vm.box = "test/debian-packaged"\n  config.vm.disk :disk, size: "${size}", primary: true\nend\n`;
  try {
    await writeFile(path.join(other, "Vagrantfile"), vagrantfile("4GB"));
    const small = await inOther(["up"], true);
    assert.notEqual(small.code, 0);
    assert.match(small.stderr, /at least the box's 8 GiB/);
    await writeFile(path.join(other, "Vagrantfile"), vagrantfile("10GB"));
    await inOther(["up"]);
    const [killed, size, key] = (await inOther(["ssh", "-c", "cat /home/vagrant/killed; findmnt -bno SIZE /; cat /etc/ssh/ssh_host_ed25519_key.pub"])).stdout.trim().split("\n");
    assert.match(key, /^ssh-ed25519 /);
    assert.notEqual(key, hostKey, "a new machine has SSH host keys of its own");
    assert.equal(killed, "survived", "the packaged machine's files");
    assert.ok(Number(size) > 9.5 * 1024 ** 3 && Number(size) <= 10 * 1024 ** 3, `the root file system is ${size} bytes`);
    await inOther(["destroy", "-f"]);
  } finally {
    await rm(other, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});

/** e2fsck -fn of what the guest sees (the box's image under the machine's overlay), flattened into a sparse file. */
async function fsckMachineDisk(overlay: string): Promise<void> {
  const base = path.join(await findBoxDir(), "disk.img");
  const composed = path.join(project, "composed.img");
  await CowDisk.flatten(base, overlay, (await stat(base)).size, composed);
  try {
    await exec("e2fsck", ["-fn", composed]);
  } finally {
    await rm(composed, { force: true });
  }
}

async function findBoxDir(): Promise<string> {
  const root = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-bookworm");
  const [version] = await readdir(root);
  return path.join(root, version, "embedded");
}
