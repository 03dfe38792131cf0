// hangar/debian-bookworm's speed, each figure against a reference measured in this run:
//  - up of a new machine from the box's booted state (goal <= 2 s) vs the cold boot to SSH;
//  - `apt-get install -y jq` with its download excluded (fetched first with
//    --download-only), and a 200 MB sequential write (fsynced) and read (page
//    cache dropped) on the root disk: under v86 vs the same kernel, initramfs
//    and disk image under qemu-system-i386 -accel tcg (Debian qemu-system-x86,
//    when installed; its disk in snapshot mode, so the image is not written).
// Builds the box into a temporary HANGAR_HOME (HANGAR_BENCH_HOME reuses one with
// the box installed; Debian mirror from apt's configuration or HANGAR_DEBIAN_MIRROR).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { buildDebianBox } from "../src/core/boxes/debian-box/debian-box-builder";
import { EmbeddedBox } from "../src/core/boxes/embedded-box";
import { KERNEL_CMDLINE } from "../src/core/boxes/default-box/guest-files";
import { MachineRunner } from "../src/core/machines/machine-runner";
import { MachineSession } from "../src/core/machines/machine-session";
import type { BenchResult } from "./run";

/** The guest work timed on both emulators, each between two markers the guest prints. */
const STEPS = {
  prepare: "apt-get update -qq && apt-get install --download-only -y -qq jq && echo 3 > /proc/sys/vm/drop_caches",
  apt: "apt-get install -y -qq jq >/dev/null",
  write: "dd if=/dev/zero of=/root/big bs=1M count=200 conv=fsync 2>/dev/null",
  read: "echo 3 > /proc/sys/vm/drop_caches; dd if=/root/big of=/dev/null bs=1M 2>/dev/null",
} as const;

/** A console: what to type, and every line the guest prints. */
interface Console {
  type(text: string): void;
  onLine(cb: (line: string) => void): void;
}

/** Runs `command` on the console and resolves with its wall time between the guest's start and end markers. */
function timed(c: Console, command: string, timeoutMs = 600_000): Promise<number> {
  const id = Math.random().toString(36).slice(2, 8);
  return new Promise((resolve, reject) => {
    let start = 0;
    const timer = setTimeout(() => reject(new Error(`no end marker for: ${command}`)), timeoutMs);
    c.onLine((line) => {
      if (line.includes(`T-${id}-START`)) start = performance.now();
      else if (line.includes(`T-${id}-END`) && start) {
        clearTimeout(timer);
        resolve(performance.now() - start);
      }
    });
    // The markers are split in the typed line, so the echo of the line cannot match.
    c.type(`echo T-${id}-ST""ART; ${command}; echo T-${id}-E""ND\n`);
  });
}

function lines(onText: (cb: (text: string) => void) => void): (cb: (line: string) => void) => void {
  const listeners: Array<(line: string) => void> = [];
  let buf = "";
  onText((text) => {
    buf += text;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      listeners.forEach((l) => l(line));
    }
  });
  return (cb) => listeners.push(cb);
}

async function measure(c: Console): Promise<Record<keyof typeof STEPS, number>> {
  const out = {} as Record<keyof typeof STEPS, number>;
  for (const k of Object.keys(STEPS) as Array<keyof typeof STEPS>) out[k] = await timed(c, STEPS[k]);
  return out;
}

async function underQemu(box: EmbeddedBox): Promise<Record<keyof typeof STEPS, number> | undefined> {
  if (!existsSync("/usr/bin/qemu-system-i386")) return undefined;
  const q = spawn(
    "/usr/bin/qemu-system-i386",
    [
      ...["-accel", "tcg", "-m", "512", "-nographic", "-no-reboot"],
      ...["-kernel", box.file("kernel"), "-initrd", box.file("initrd"), "-append", KERNEL_CMDLINE],
      ...["-drive", `file=${box.disk!.file},format=raw,if=ide,snapshot=on`, "-nic", "user,model=virtio-net-pci"],
    ],
    { stdio: ["pipe", "pipe", "ignore"] },
  );
  try {
    const onLine = lines((cb) => q.stdout.on("data", (d: Buffer) => cb(d.toString())));
    await new Promise<void>((resolve) => onLine((l) => l.includes(box.metadata.readyMarker) && resolve()));
    await new Promise((r) => setTimeout(r, 2000)); // the console shell starts after the boot script
    return await measure({ type: (t) => q.stdin.write(t), onLine });
  } finally {
    q.kill("SIGKILL");
  }
}

export async function run(): Promise<BenchResult[]> {
  const reuse = process.env.HANGAR_BENCH_HOME;
  const home = reuse ?? (await mkdtemp(path.join(os.tmpdir(), "hangar-bench-debian-")));
  const cleanup: string[] = reuse ? [] : [home];
  try {
    let boxDir: string;
    if (reuse) {
      const root = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-bookworm");
      boxDir = path.join(root, (await readdir(root)).sort().pop()!, "embedded");
    } else {
      boxDir = (await buildDebianBox({ hangarHome: home })).dir;
    }
    const box = await EmbeddedBox.open(boxDir);
    // The machines' own files in a folder of the bench's (a reused home keeps only its box).
    const work = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-debian-machines-"));
    cleanup.push(work);
    const keyFile = path.join(work, "bench_key");
    const machine = (disk: string) => ({ box, memoryMiB: 512, keyFile, diskDir: path.join(work, disk) });
    // Made once (a cold boot saved with its overlay) outside the timings.
    await (await MachineRunner.start(machine("warmup"))).stop();

    let t = performance.now();
    const m1 = await MachineRunner.start(machine("disk1"));
    const warm = performance.now() - t;
    await m1.stop();
    // A machine that ran before boots cold on its own disk; SSH answering is the end.
    t = performance.now();
    const m = await MachineRunner.start(machine("disk1"));
    const session = await MachineSession.open(m.sshPort, keyFile);
    await session.run("true");
    const cold = performance.now() - t;
    session.close();
    const onLine = lines((cb) => m.emulator.on("serial", cb));
    const v86 = await measure({ type: (text) => m.typeOnConsole(text), onLine });
    await m.stop();

    const qemu = await underQemu(box);
    const results: BenchResult[] = [{ name: "debian: up from the booted state (goal <= 2000 ms) vs cold boot to SSH", value: warm, reference: cold, unit: "ms" }];
    if (qemu) {
      results.push(
        { name: "debian: apt-get install -y jq (download excluded): v86 vs qemu tcg", value: v86.apt, reference: qemu.apt, unit: "ms" },
        { name: "debian: 200 MB sequential write (fsync): v86 vs qemu tcg", value: v86.write, reference: qemu.write, unit: "ms", targetRatio: 2 },
        { name: "debian: 200 MB sequential read (cold cache): v86 vs qemu tcg", value: v86.read, reference: qemu.read, unit: "ms", targetRatio: 2 },
      );
    } else console.log(`debian under v86 (qemu-system-i386 not installed: no reference): ${JSON.stringify(v86)}`);
    console.log(`debian: up from booted state ${warm.toFixed(0)} ms (goal <= 2000 ms), cold boot to SSH ${cold.toFixed(0)} ms`);
    return results;
  } finally {
    for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
  }
}
