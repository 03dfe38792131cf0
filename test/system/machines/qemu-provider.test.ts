// The qemu provider with a real QEMU (Debian's qemu-system-i386; TCG here, or
// KVM where it can run the guest): the Debian box comes up from a Vagrantfile
// naming the provider, with SSH, its synced folder copied in, a forwarded
// port, suspend and resume, a snapshot pushed and popped (memory and disk),
// halt and up keeping the disk, destroy removing it; another provider for the
// same machine is refused, and a missing QEMU is said before anything is made.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import packageJson from "../../../package.json";
import { SHARED_CACHE } from "../fixtures/default-box-home";
import { copyDebianBox } from "../fixtures/debian-box-home";
import { freePort } from "../fixtures/openssh-server";
import { runCommand, type Run } from "../fixtures/command-run";

const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
const QEMU = "/usr/bin/qemu-system-i386";
let home = "";
let project = "";
let port = 0;

async function hangar(args: string[], o: { allowFail?: boolean; env?: NodeJS.ProcessEnv; home?: string } = {}): Promise<Run> {
  return runCommand(process.execPath, [CLI, ...args], {
    cwd: project,
    env: { ...process.env, HANGAR_HOME: o.home ?? home, ...o.env },
    allowFail: o.allowFail ?? false,
    timeoutMs: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}
const guest = async (command: string): Promise<string> => (await hangar(["ssh", "-c", command])).stdout;

before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-qemu-"));
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-qemu-project-"));
  await mkdir(SHARED_CACHE, { recursive: true });
  await symlink(SHARED_CACHE, path.join(home, "cache"));
  await copyDebianBox(home);
  port = await freePort();
  await writeFile(path.join(project, "from-host.txt"), "copied from the host\n");
  await writeFile(
    path.join(project, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-bookworm"
  config.vm.network "forwarded_port", guest: 8080, host: ${port}
  config.vm.provider "virtualbox" do |vb|
    vb.memory = 512
  end
  config.vm.provider "qemu" do |q|
  end
end
`,
  );
});

after(async () => {
  await hangar(["destroy", "-f"], { allowFail: true });
  await rm(home, { recursive: true, force: true });
  await rm(project, { recursive: true, force: true });
});

const skip = !existsSync(QEMU) && "qemu-system-i386 is not installed (.ci/run installs qemu-system-x86)";

test('config.vm.provider "qemu": up, SSH, the synced folder copied, a forwarded port, status names the provider', { skip, timeout: 600_000 }, async () => {
  const up = await hangar(["up"]);
  assert.match(up.stdout, /default: running \(ssh on 127\.0\.0\.1:\d+; ports 8080 => 127\.0\.0\.1:\d+\)/);
  assert.match((await hangar(["status"])).stdout, /default\s+running \(qemu\)/);
  assert.equal(await guest("cat /sys/class/dmi/id/sys_vendor; cat /vagrant/from-host.txt; uname -m; id -un"), "QEMU\ncopied from the host\ni686\nvagrant\n");
  await guest("setsid busybox httpd -p 8080 -h /vagrant </dev/null >/dev/null 2>&1");
  const res = await fetch(`http://127.0.0.1:${port}/from-host.txt`);
  assert.equal(await res.text(), "copied from the host\n");
  // Another provider for a machine QEMU runs is refused, and nothing changes.
  const other = await hangar(["up", "--provider", "embedded"], { allowFail: true });
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /created with the qemu provider; it cannot be brought up with embedded/);
});

test("suspend and resume keep memory and processes; a snapshot brings back memory and disk; halt and up keep the disk; destroy removes it", { skip, timeout: 600_000 }, async () => {
  await guest("sudo sh -c 'echo in-memory > /run/mem.txt' && echo on-disk > /home/vagrant/disk.txt && sync");
  await hangar(["suspend"]);
  assert.match((await hangar(["status"])).stdout, /default\s+saved \(qemu\)/);
  await hangar(["up"]);
  assert.equal(await guest("cat /run/mem.txt /home/vagrant/disk.txt"), "in-memory\non-disk\n");
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/from-host.txt`)).text(), "copied from the host\n", "the guest's server runs on after resume");

  await hangar(["snapshot", "push"]);
  await guest("sudo sh -c 'echo changed > /run/mem.txt' && rm /home/vagrant/disk.txt && sync");
  await hangar(["snapshot", "pop"]);
  assert.equal(await guest("cat /run/mem.txt /home/vagrant/disk.txt"), "in-memory\non-disk\n");

  await hangar(["halt"]);
  assert.match((await hangar(["status"])).stdout, /default\s+poweroff \(qemu\)/);
  // A hypervisor that failed this machine once (nested KVM here) is not tried again.
  const again = await hangar(["up"]);
  assert.doesNotMatch(`${again.stdout}${again.stderr}`, /could not run the machine/);
  assert.equal(await guest("cat /home/vagrant/disk.txt; test -e /run/mem.txt || echo booted-afresh"), "on-disk\nbooted-afresh\n");
  const disk = path.join(project, ".hangar", "machines", "default", "disk", "root.qcow2");
  assert.ok(existsSync(disk), `${disk} holds the machine's disk`);
  await hangar(["destroy", "-f"]);
  assert.ok(!existsSync(disk), "destroy removes the disk");
});

test("a missing QEMU is named with what to install, and no machine is made", { timeout: 120_000 }, async () => {
  const other = await mkdtemp(path.join(os.tmpdir(), "hangar-home-noqemu-"));
  try {
    await symlink(SHARED_CACHE, path.join(other, "cache"));
    await copyDebianBox(other);
    const res = await hangar(["up", "--provider", "qemu"], { allowFail: true, home: other, env: { HANGAR_QEMU: path.join(other, "no-such-qemu") } });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /cannot be run[\s\S]*apt-get install qemu-system-x86/);
    assert.match((await hangar(["status"], { home: other })).stdout, /default\s+not created/);
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});
