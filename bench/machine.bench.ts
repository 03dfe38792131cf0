// Embedded machine speed, each figure against a reference measured in this run:
//  - up from the box's booted state vs the cold boot that made it (goal <= 1/20);
//  - resume of a suspended machine vs the cold boot;
//  - SSH exec round trip of `true` (goal <= 100 ms) vs a bare node start-up;
//  - a guest shell loop under v86 vs the same box under qemu-system-i386 -accel
//    tcg (Debian qemu-system-x86, when installed).
// Needs the default box: builds it into a temporary HANGAR_HOME (Debian mirror
// from apt's configuration, or HANGAR_DEBIAN_MIRROR).
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { buildDefaultBox } from "../src/core/boxes/default-box/default-box-builder";
import { EmbeddedBox } from "../src/core/boxes/embedded-box";
import { MachineRunner } from "../src/core/machines/machine-runner";
import { MachineSession } from "../src/core/machines/machine-session";
import type { BenchResult } from "./run";

const LOOP = "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs LOOP on a guest's serial console and times it between two markers printed by the guest. */
function timeLoopOnSerial(send: (text: string) => void, onLine: (cb: (line: string) => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let start = 0;
    onLine((line) => {
      if (line.includes("LOOP-START") && !line.includes("echo")) start = performance.now();
      else if (line.includes("LOOP-END") && !line.includes("echo") && start) resolve(performance.now() - start);
    });
    send(`echo LOOP-ST""ART; ${LOOP}; echo LOOP-E""ND\n`);
  });
}

async function qemuLoop(box: EmbeddedBox): Promise<number | undefined> {
  if (!existsSync("/usr/bin/qemu-system-i386")) return undefined;
  const q = spawn(
    "/usr/bin/qemu-system-i386",
    ["-accel", "tcg", "-m", "128", "-nographic", "-no-reboot", "-kernel", box.file("kernel"), "-initrd", box.file("initrd"), "-append", box.metadata.cmdline, "-nic", "none"],
    { stdio: ["pipe", "pipe", "ignore"] },
  );
  let buf = "";
  const listeners: Array<(line: string) => void> = [];
  q.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      listeners.forEach((l) => l(line));
    }
  });
  await new Promise<void>((resolve) => listeners.push((l) => l.includes(box.metadata.readyMarker) && resolve()));
  await new Promise((r) => setTimeout(r, 1000));
  const ms = await timeLoopOnSerial(
    (t) => q.stdin.write(t),
    (cb) => listeners.push(cb),
  );
  q.kill("SIGKILL");
  return ms;
}

export async function run(): Promise<BenchResult[]> {
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-"));
  try {
    const built = await buildDefaultBox({ hangarHome: home });
    const box = await EmbeddedBox.open(built.dir);
    const keyFile = path.join(home, "machine_key");
    // The realistic machine: the project folder at /vagrant (9p) and a disk that halt fills.
    const project = path.join(home, "project");
    await mkdir(project);
    await writeFile(path.join(project, "README"), "bench project\n");
    const diskDir = path.join(home, "disk");
    const machine = { box, memoryMiB: 128, keyFile, syncedFolders: [{ hostPath: project, guestPath: "/vagrant" }] };
    let t = performance.now();
    let m = await MachineRunner.start({ ...machine, diskDir });
    const cold = performance.now() - t;
    // SSH as every client reaches it: through the machine's 127.0.0.1 relay.
    let session = await MachineSession.open(m.sshPort, keyFile);
    const rtts: number[] = [];
    for (let i = 0; i < 21; i++) {
      t = performance.now();
      await session.run("true");
      rtts.push(performance.now() - t);
    }
    const lines: Array<(l: string) => void> = [];
    m.emulator.on("serial", (l) => lines.forEach((f) => f(l)));
    const v86Loop = await timeLoopOnSerial(
      (text) => m.emulator.serial(text),
      (cb) => lines.push(cb),
    );
    const suspended = path.join(home, "suspended.state");
    await m.save(suspended);
    await session.run("mkdir -p /opt/app && echo built > /opt/app/artifact");
    session.close();
    t = performance.now();
    if (!(await m.persistDisk())) throw new Error("halt could not keep the machine's disk");
    const persist = performance.now() - t;
    await m.stop();
    t = performance.now();
    m = await MachineRunner.start({ ...machine, diskDir: path.join(home, "empty-disk") });
    const warm = performance.now() - t;
    await m.stop();
    t = performance.now();
    m = await MachineRunner.start({ ...machine, diskDir });
    const fromDisk = performance.now() - t;
    session = await MachineSession.open(m.sshPort, keyFile);
    const kept = await session.run("cat /opt/app/artifact /vagrant/README");
    session.close();
    if (kept.stdout !== "built\nbench project\n") throw new Error(`the disk or /vagrant lost files: ${JSON.stringify(kept.stdout)}`);
    await m.stop();
    t = performance.now();
    m = await MachineRunner.start({ ...machine, resumeFrom: suspended });
    const resume = performance.now() - t;
    await m.stop();
    const nodeStart: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      execFileSync(process.execPath, ["-e", "0"]);
      nodeStart.push(performance.now() - s);
    }
    const qemu = await qemuLoop(box);
    const results: BenchResult[] = [
      { name: "up from booted state vs cold first up", value: warm, reference: cold, unit: "ms", targetRatio: 0.05 },
      { name: "resume vs cold first up", value: resume, reference: cold, unit: "ms" },
      { name: "up after halt (disk restored) vs cold first up", value: fromDisk, reference: cold, unit: "ms" },
      { name: "ssh exec round trip (true) vs node start-up", value: median(rtts), reference: median(nodeStart), unit: "ms" },
    ];
    if (qemu) results.push({ name: "guest loop (20000 shell iterations): v86 vs qemu -accel tcg", value: v86Loop, reference: qemu, unit: "ms" });
    else console.log(`guest loop under v86: ${v86Loop.toFixed(0)} ms (qemu-system-i386 not installed: no reference)`);
    console.log(
      `machine: cold first up ${cold.toFixed(0)} ms, warm up ${warm.toFixed(0)} ms (goal <= 1000 ms), up after halt ${fromDisk.toFixed(0)} ms (halt kept the disk in ${persist.toFixed(0)} ms), resume ${resume.toFixed(0)} ms, ssh rtt ${median(rtts).toFixed(0)} ms (goal <= 100 ms)`,
    );
    return results;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
