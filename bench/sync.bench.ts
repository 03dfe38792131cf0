// Synced folders, each figure against a reference measured in this run:
//  - host save → visible in the guest, p95, for /vagrant (9p: the guest reads
//    the host file itself) vs the guest console's own echo round trip (the
//    floor of any "the guest saw it" signal); goal <= 150 ms;
//  - host save → inotify event in the guest (a real inotify program watching
//    a /vagrant folder, woken by the watch relay), p95, vs the console echo
//    round trip; goal <= 300 ms;
//  - host save → applied in the guest by rsync-auto (chokidar + one SSH exec
//    per batch), p95, vs an SSH exec round trip of `true`; goal <= 150 ms;
//  - initial sync of a 10,000-file tree: the guest listing /vagrant (9p) and
//    the rsync folder's first copy, vs reading the same tree on the host;
//    goal <= 10 s;
//  - memory growth of this (extension-host-like) process while rsync-auto
//    follows that tree, vs the process's heap before; goal <= 50 MB.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { EmbeddedBox } from "../src/core/boxes/embedded-box";
import { MachineRunner } from "../src/core/machines/machine-runner";
import { MachineSession } from "../src/core/machines/machine-session";
import { FolderSync, type SyncBatch } from "../src/core/sync/folder-sync";
import { packPaths, walkTree } from "../src/core/sync/tree-archive";
import { homeWithDefaultBox } from "../test/system/fixtures/default-box-home";
import type { BenchResult } from "./run";

const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/** Waits for a console line containing `marker`, returns when it came. */
function serialLine(m: MachineRunner, marker: string): Promise<number> {
  return new Promise((resolve) => {
    const stop = m.watchConsole((text) => {
      if (text.includes(marker) && !text.includes(`echo ${marker}`)) {
        stop();
        resolve(performance.now());
      }
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const home = await homeWithDefaultBox();
  const project = await mkdtemp(path.join(os.tmpdir(), "hangar-sync-bench-"));
  const copyTarget = "/srv/copy";
  const boxDir = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox");
  const [version] = await (await import("node:fs/promises")).readdir(boxDir);
  const box = await EmbeddedBox.open(path.join(boxDir, version, "embedded"));
  // 10,000 files take a page each in the guest's RAM-backed root: a bigger machine than the fixture's (one cold boot).
  const stage = (what: string): void => void process.stderr.write(`sync bench: ${what}\n`);
  stage("starting a 384 MiB machine (a cold boot)");
  const m = await MachineRunner.start({ box, memoryMiB: 384, keyFile: path.join(home, "bench_key"), syncedFolders: [{ hostPath: project, guestPath: "/vagrant" }], watchSyncedFolders: true });
  try {
    stage("9p: save → visible");
    // 9p: a guest loop announces each new content of /vagrant/probe on the console.
    await writeFile(path.join(project, "probe"), "0\n");
    m.typeOnConsole(`(last=0; while :; do c=$(cat /vagrant/probe); if [ "$c" != "$last" ]; then echo "SEEN-$c"; last=$c; fi; done) &\n`);
    const ninep: number[] = [];
    const echo: number[] = [];
    for (let i = 1; i <= 20; i++) {
      let seen = serialLine(m, `SEEN-${i}`);
      const t = performance.now();
      await writeFile(path.join(project, "probe"), `${i}\n`);
      ninep.push((await seen) - t);
      seen = serialLine(m, `ECHO-${i}-DONE`);
      const e = performance.now();
      m.typeOnConsole(`echo ECHO-${i}-""DONE\n`);
      echo.push((await seen) - e);
    }
    m.typeOnConsole("kill %1\n");

    stage("rsync-auto");
    // rsync-auto: latency of each single-file change, host event → applied in the guest.
    const session = await MachineSession.open(m.sshPort, path.join(home, "bench_key"));
    const rtts: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      await session.run("true");
      rtts.push(performance.now() - t);
    }
    stage("inotify: save → event");
    // inotify: the synced-folders test's watcher program, on a folder of /vagrant, its events read over SSH; each host save must wake it.
    await mkdir(path.join(project, "watched"));
    await writeFile(path.join(project, "watched", "app.js"), "0\n");
    execFileSync("gcc", ["-m32", "-static", "-O1", "-o", path.join(project, "inotify-watch"), path.join(__dirname, "..", "test", "system", "sync", "inotify-watch.c")]);
    // The relay holds a new folder open in the guest a moment after it appears (chokidar's latency); watch it after that.
    await new Promise((r) => setTimeout(r, 2000));
    let output = "";
    let onLine: ((line: string) => void) | undefined;
    const nextLine = (wanted: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the guest's watcher did not print "${wanted}" within 15 s`)), 15_000);
        onLine = (l) => l === wanted && (clearTimeout(timer), resolve(performance.now()));
      });
    const started = nextLine("watching");
    const watcher = await session.exec("/vagrant/inotify-watch /vagrant/watched");
    watcher.on("data", (d: Buffer) => {
      output += d.toString();
      const lines = output.split("\n");
      output = lines.pop() ?? "";
      for (const l of lines) onLine?.(l);
    });
    await started;
    const inotify: number[] = [];
    for (let i = 1; i <= 20; i++) {
      // Let the last save's events drain, so each wait sees its own.
      await new Promise((r) => setTimeout(r, 400));
      const seen = nextLine("/vagrant/watched MODIFY, app.js");
      const t = performance.now();
      await writeFile(path.join(project, "watched", "app.js"), `${i}\n`);
      inotify.push((await seen) - t);
    }
    watcher.close();

    const rsyncDir = path.join(project, "rsync-src");
    await mkdir(rsyncDir);
    const batches: SyncBatch[] = [];
    let applied: (() => void) | undefined;
    const sync = new FolderSync(session, { hostPath: rsyncDir, guestPath: copyTarget, onBatch: (b) => (batches.push(b), applied?.()) });
    await sync.start();
    for (let i = 0; i < 20; i++) {
      const done = new Promise<void>((resolve) => (applied = resolve));
      await writeFile(path.join(rsyncDir, "edited.txt"), `edit ${i}\n`);
      await done;
    }
    await sync.stop();
    const rsyncLatency = p95(batches.map((b) => b.latencyMs));

    stage("a 10,000-file tree");
    // A 10,000-file tree: 100 directories of 100 small files.
    const tree = path.join(project, "tree");
    for (let d = 0; d < 100; d++) {
      await mkdir(path.join(tree, `dir-${d}`), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(tree, `dir-${d}`, `file-${f}.txt`), `directory ${d}, file ${f}\n`)));
    }
    let t = performance.now();
    const hostRead = await packPaths(tree, await walkTree(tree, () => false));
    const hostReadMs = performance.now() - t;
    t = performance.now();
    const listed = await session.run("find /vagrant/tree -type f | wc -l");
    const ninepListMs = performance.now() - t;
    if (listed.stdout.trim() !== "10000") throw new Error(`the guest saw ${listed.stdout.trim()} files in /vagrant/tree`);
    t = performance.now();
    const copy = await session.run(`mkdir -p /srv/tree && tar -x -C /srv/tree`, { stdin: hostRead.archive });
    const rsyncInitialMs = performance.now() - t + hostReadMs;
    if (copy.code !== 0) throw new Error(copy.stderr);

    // Memory of following that tree.
    global.gc?.();
    const before = process.memoryUsage();
    const follow = new FolderSync(session, { hostPath: tree, guestPath: "/srv/tree" });
    await follow.start();
    global.gc?.();
    const afterStart = process.memoryUsage();
    await follow.stop();
    session.close();
    const grownMiB = (afterStart.rss - before.rss) / 1048576;
    const heapMiB = before.heapUsed / 1048576;

    console.log(
      `sync: 9p save→guest p95 ${p95(ninep).toFixed(0)} ms (console echo p95 ${p95(echo).toFixed(0)} ms); save→guest inotify p95 ${p95(inotify).toFixed(0)} ms; rsync-auto save→guest p95 ${rsyncLatency.toFixed(0)} ms (ssh rtt p95 ${p95(rtts).toFixed(0)} ms); ` +
        `10,000 files: guest lists /vagrant in ${ninepListMs.toFixed(0)} ms, rsync copy ${rsyncInitialMs.toFixed(0)} ms, host read ${hostReadMs.toFixed(0)} ms; following it grows RSS by ${grownMiB.toFixed(1)} MiB (goals: 150 ms, 300 ms, 150 ms, 10 s, 50 MB)`,
    );
    return [
      { name: "host save → visible in guest, /vagrant over 9p (p95) vs guest console echo", value: p95(ninep), reference: p95(echo), unit: "ms" },
      { name: "host save → inotify event in guest, /vagrant folder watched (p95) vs guest console echo", value: p95(inotify), reference: p95(echo), unit: "ms" },
      { name: "host save → applied in guest by rsync-auto (p95) vs ssh exec round trip", value: rsyncLatency, reference: p95(rtts), unit: "ms" },
      { name: "10,000-file tree: guest lists /vagrant (9p) vs host reads the tree", value: ninepListMs, reference: hostReadMs, unit: "ms" },
      { name: "10,000-file tree: rsync folder's first copy vs host reads the tree", value: rsyncInitialMs, reference: hostReadMs, unit: "ms" },
      { name: "RSS growth while rsync-auto follows 10,000 files vs heap before", value: grownMiB, reference: heapMiB, unit: "MiB" },
    ];
  } finally {
    await m.stop();
    await rm(project, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}
