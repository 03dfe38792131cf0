// The two machine providers side by side in one run, on the same box
// (hangar/debian-bookworm: kernel, initramfs, disk image) and the same
// Vagrantfile: a cold boot to SSH (`up` after `halt`), an SSH round trip
// (OpenSSH through ssh-config, `true`), and a guest shell loop timed inside
// the guest. The embedded provider is the value, QEMU (TCG here; KVM where it
// runs the guest) the reference, so the ratio is how much slower the
// embedded emulator is. Skipped without qemu-system-i386.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../package.json";
import { SHARED_CACHE } from "../test/system/fixtures/default-box-home";
import { copyDebianBox } from "../test/system/fixtures/debian-box-home";
import type { BenchResult } from "./run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", packageJson.bin.hangar);
const LOOP = "i=0; s=$(date +%s%N); while [ $i -lt 100000 ]; do i=$((i+1)); done; e=$(date +%s%N); echo $(( (e-s)/1000000 ))";

interface Measures {
  coldUpMs: number;
  sshMs: number;
  loopMs: number;
}

async function measure(home: string, provider: "embedded" | "qemu"): Promise<Measures> {
  const project = await mkdtemp(path.join(os.tmpdir(), `hangar-bench-${provider}-`));
  const env = { ...process.env, HANGAR_HOME: home };
  const hangar = (args: string[]) => exec(process.execPath, [CLI, ...args], { cwd: project, env, maxBuffer: 16 * 1024 * 1024 });
  try {
    await writeFile(path.join(project, "Vagrantfile"), 'Vagrant.configure("2") do |config|\n  config.vm.box = "hangar/debian-bookworm"\nend\n');
    // Warm up: the first up (embedded: from the box's booted state), then halted, so the timed up boots cold on the machine's disk.
    await hangar(["up", "--provider", provider]);
    await hangar(["halt"]);
    let t = performance.now();
    await hangar(["up"]);
    const coldUpMs = performance.now() - t;
    const config = path.join(project, "ssh_config");
    await writeFile(config, (await hangar(["ssh-config"])).stdout);
    await exec("ssh", ["-F", config, "default", "true"]);
    const rounds = 5;
    t = performance.now();
    for (let i = 0; i < rounds; i++) await exec("ssh", ["-F", config, "default", "true"]);
    const sshMs = (performance.now() - t) / rounds;
    const loopMs = Number((await exec("ssh", ["-F", config, "default", LOOP])).stdout.trim());
    await hangar(["destroy", "-f"]);
    return { coldUpMs, sshMs, loopMs };
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult[]> {
  if (!existsSync("/usr/bin/qemu-system-i386") && !process.env.HANGAR_QEMU) {
    console.log("providers: qemu-system-i386 is not installed (apt-get install qemu-system-x86 qemu-utils): no reference");
    return [];
  }
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-providers-"));
  try {
    await mkdir(SHARED_CACHE, { recursive: true });
    await symlink(SHARED_CACHE, path.join(home, "cache"));
    await copyDebianBox(home);
    const embedded = await measure(home, "embedded");
    const qemu = await measure(home, "qemu");
    console.log(`providers: embedded ${JSON.stringify(embedded)}, qemu ${JSON.stringify(qemu)}`);
    return [
      { name: "providers: cold boot to SSH (up after halt), embedded vs qemu", value: embedded.coldUpMs, reference: qemu.coldUpMs, unit: "ms" },
      { name: "providers: SSH round trip (OpenSSH, true), embedded vs qemu", value: embedded.sshMs, reference: qemu.sshMs, unit: "ms" },
      { name: "providers: guest shell loop (100,000 iterations), embedded vs qemu", value: embedded.loopMs, reference: qemu.loopMs, unit: "ms" },
    ];
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
