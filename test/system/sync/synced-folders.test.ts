// Synced folders on a real guest: the default folder is the host folder
// itself (9p), both ways; an rsync-type folder is a copy that `hangar
// rsync-auto` (chokidar) keeps following — creates, modifies, deletes,
// renames, the exec bit, symlinks, excludes and a 1,000-file burst.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, readdir, lstat, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let project = "";

async function hangar(args: string[]): Promise<string> {
  try {
    return (await exec(process.execPath, [CLI, ...args], { cwd: project, env: { ...process.env, HANGAR_HOME: home }, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    throw new Error(`hangar ${args.join(" ")} failed (${e.code}): ${e.stderr}`);
  }
}

/** "path type mode md5" lines of a tree, the same on both sides. */
const GUEST_LISTING = [
  'cd "$1"',
  "find . -mindepth 1 -type d | sed 's/$/ dir/'",
  `find . -mindepth 1 -type l | while IFS= read -r f; do echo "$f link $(readlink "$f")"; done`,
  // Few processes per tree, not per file: the guest's CPU is emulated.
  "find . -mindepth 1 -type f -exec stat -c '%n %a' {} + > /tmp/modes",
  'find . -mindepth 1 -type f -exec md5sum {} + | awk \'NR==FNR{m[$1]=$2;next} {print $2" file "m[$2]" "$1}\' /tmp/modes -',
].join("; ");

async function hostListing(root: string, excluded: (rel: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (excluded(r)) continue;
      const abs = path.join(root, r);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out.push(`./${r} link ${await readlink(abs)}`);
      else if (st.isDirectory()) {
        out.push(`./${r} dir`);
        await walk(r);
      } else
        out.push(
          `./${r} file ${(st.mode & 0o777).toString(8)} ${createHash("md5")
            .update(await readFile(abs))
            .digest("hex")}`,
        );
    }
  };
  await walk("");
  return out.sort();
}

async function guestListing(dir: string): Promise<string[]> {
  const out = await hangar(["ssh", "-c", `sh -c '${GUEST_LISTING.replace(/'/g, `'\\''`)}' - ${dir}`]);
  return out.split("\n").filter(Boolean).sort();
}

async function until(pred: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  home = await homeWithDefaultBox();
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-sync-"));
  await mkdir(path.join(project, "src"));
  await writeFile(path.join(project, "src", "main.c"), "int main(void) { return 0; }\n");
  await writeFile(
    path.join(project, "Vagrantfile"),
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-busybox"
  config.vm.provider "hangar" do |h|
    h.memory = ${FIXTURE_MEMORY_MIB}
  end
  config.vm.synced_folder "src", "/srv/src", type: "rsync", rsync__exclude: ["*.log", "build/"]
end
`,
  );
  await hangar(["up"]);
});

after(async () => {
  if (project) await hangar(["destroy", "-f"]).catch(() => undefined);
  await exec("pkill", ["-f", `daemon.js ${home}`]).catch(() => undefined);
  // (the stopping daemon may still write into the home for a moment: rm retries ENOTEMPTY)
  await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  await rm(project, { recursive: true, force: true });
});

test("/vagrant is the host folder: creates, edits, renames, deletes and a 1,000-file burst, both ways", { timeout: 180_000 }, async () => {
  const v = (p: string): string => path.join(project, p);
  await mkdir(v("tree/a/b"), { recursive: true });
  await writeFile(v("tree/a/b/file.txt"), "one\n");
  await writeFile(v("tree/run.sh"), "#!/bin/sh\necho ran\n");
  await chmod(v("tree/run.sh"), 0o755);
  await symlink("a/b/file.txt", v("tree/link"));
  for (let i = 0; i < 1000; i++) await writeFile(v(`tree/burst-${String(i).padStart(4, "0")}.txt`), `file ${i}\n`);
  const excludedNothing = (): boolean => false;
  assert.deepEqual(await guestListing("/vagrant/tree"), await hostListing(v("tree"), excludedNothing));
  await writeFile(v("tree/a/b/file.txt"), "two\n");
  await rename(v("tree/run.sh"), v("tree/a/renamed.sh"));
  await rm(v("tree/burst-0001.txt"));
  assert.deepEqual(await guestListing("/vagrant/tree"), await hostListing(v("tree"), excludedNothing));
  assert.equal(await hangar(["ssh", "-c", "/vagrant/tree/a/renamed.sh"]), "ran\n");
  // What the guest writes is on the host (build output must not vanish).
  await hangar(["ssh", "-c", "mkdir -p /vagrant/tree/out && echo built > /vagrant/tree/out/artifact && rm /vagrant/tree/burst-0002.txt"]);
  assert.equal(await readFile(v("tree/out/artifact"), "utf8"), "built\n");
  assert.ok(!existsSync(v("tree/burst-0002.txt")));
});

test(
  "a program watching /vagrant with inotify hears of host edits and new files; no echo of the guest's own writes; excludes stay quiet; the host file is left as saved",
  { timeout: 180_000 },
  async () => {
    const v = (p: string): string => path.join(project, p);
    await mkdir(v("watched/node_modules"), { recursive: true });
    await writeFile(v("watched/app.js"), "v1\n");
    await writeFile(v("watched/node_modules/dep.js"), "dep\n");
    await mkdir(v("tools"), { recursive: true });
    // A real inotify client in the guest (what nodemon, webpack and inotifywait use underneath).
    await exec("gcc", ["-m32", "-static", "-O1", "-o", v("tools/inotify-watch"), path.join(__dirname, "inotify-watch.c")]);
    // The relay holds each synced folder open in the guest (a folder created on the host a moment ago too); watches start once it does.
    await until(async () => (await hangar(["ssh", "-c", "sudo ls -l /proc/[0-9]*/fd 2>/dev/null"])).includes("-> /vagrant/watched\n"), "the guest helper to hold /vagrant/watched");
    // Folders are what watchers watch (nodemon, webpack and chokidar all do); the guest's own writes must reach them too.
    await hangar(["ssh", "-c", "sh -c '/vagrant/tools/inotify-watch /vagrant/watched /vagrant/watched/node_modules </dev/null >/tmp/events 2>&1 &'"]);
    const events = async (): Promise<string[]> => (await hangar(["ssh", "-c", "cat /tmp/events"])).split("\n").filter(Boolean);
    await until(async () => (await events()).includes("watching"), "the guest watcher to start");

    // A save in the editor: the folder's watcher hears IN_MODIFY for the file (and IN_CLOSE_WRITE, IN_ATTRIB).
    await writeFile(v("watched/app.js"), "v2\n");
    const saved = await lstat(v("watched/app.js"));
    await until(async () => (await events()).some((e) => e === "/vagrant/watched MODIFY, app.js"), "IN_MODIFY for the host's edit");
    assert.ok((await events()).includes("/vagrant/watched CLOSE_WRITE, app.js"));
    // Raising those events changed nothing on the host: same bytes, same mtime.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await readFile(v("watched/app.js"), "utf8"), "v2\n");
    assert.equal((await lstat(v("watched/app.js"))).mtimeMs, saved.mtimeMs);

    // A new file: the folder's watcher hears of it (the folder's own IN_ATTRIB, and the file's IN_CLOSE_WRITE), and can read it.
    await writeFile(v("watched/new.js"), "new\n");
    await until(async () => (await events()).includes("/vagrant/watched ATTRIB,ISDIR, -"), "the folder's event for a new file");
    assert.ok((await events()).includes("/vagrant/watched CLOSE_WRITE, new.js"));
    assert.equal(await hangar(["ssh", "-c", "cat /vagrant/watched/new.js"]), "new\n");

    // The guest's own write: its own events, and nothing replayed after it.
    const attribs = (list: string[]): number => list.filter((e) => e === "/vagrant/watched ATTRIB, app.js").length;
    const before = attribs(await events());
    await hangar(["ssh", "-c", "echo guest >> /vagrant/watched/app.js"]);
    // An excluded folder (node_modules) stays quiet as well.
    await writeFile(v("watched/node_modules/dep.js"), "dep 2\n");
    await new Promise((r) => setTimeout(r, 2000));
    const after = await events();
    assert.equal(after.filter((e) => e === "/vagrant/watched MODIFY, app.js").length, 2, "the host's edit and the guest's own write");
    assert.equal(attribs(after), before, `no replay of the guest's own write:\n${after.join("\n")}`);
    // node_modules is not held open for watchers either (excluded), so its watch, like an unheld folder's under 9p, hears nothing.
    assert.ok(!after.some((e) => e.startsWith("/vagrant/watched/node_modules ")), `excluded folder:\n${after.join("\n")}`);
    await hangar(["ssh", "-c", "pkill inotify-watch || killall inotify-watch || true"]);
  },
);

test("rsync-auto follows host changes into an rsync folder, coalesces a burst, honours excludes, never touches the host", { timeout: 240_000 }, async () => {
  const s = (p: string): string => path.join(project, "src", p);
  const excluded = (rel: string): boolean => rel.endsWith(".log") || rel === "build" || rel.startsWith("build/");
  // up copied src/ once.
  assert.deepEqual(await guestListing("/srv/src"), await hostListing(path.join(project, "src"), excluded));
  await hangar(["ssh", "-c", "echo guest-only > /srv/src/guest-only.txt"]);

  const child: ChildProcess = spawn(process.execPath, [CLI, "rsync-auto"], { cwd: project, env: { ...process.env, HANGAR_HOME: home }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  try {
    await until(() => out.includes("following src → /srv/src"), `rsync-auto to start (output: ${out})`, 60_000);
    const batches = (): number => (out.match(/written, \d+ deleted/g) ?? []).length;
    const settled = async (what: string): Promise<void> => {
      let last = "";
      await until(
        async () => {
          const guest = (await guestListing("/srv/src")).filter((l) => !l.startsWith("./guest-only.txt"));
          last = JSON.stringify(guest);
          return last === JSON.stringify(await hostListing(path.join(project, "src"), excluded));
        },
        `${what} to reach the guest (rsync-auto said: ${out.slice(-500)})`,
        60_000,
      );
    };

    await writeFile(s("main.c"), "int main(void) { return 1; }\n");
    await mkdir(s("lib/deep"), { recursive: true });
    await writeFile(s("lib/deep/util.c"), "void util(void) {}\n");
    await writeFile(s("tool.sh"), "#!/bin/sh\n");
    await chmod(s("tool.sh"), 0o755);
    await symlink("lib/deep/util.c", s("util-link.c"));
    await writeFile(s("debug.log"), "excluded\n");
    await mkdir(s("build"));
    await writeFile(s("build/out.o"), "excluded too\n");
    await settled("creates, edits, the exec bit and a symlink");
    assert.equal(await hangar(["ssh", "-c", "test -e /srv/src/debug.log || test -e /srv/src/build || echo excluded"]), "excluded\n");

    await rename(s("lib/deep/util.c"), s("lib/util.c"));
    await rm(s("tool.sh"));
    await settled("a rename and a delete");

    const before = batches();
    await mkdir(s("gen"));
    for (let i = 0; i < 1000; i++) await writeFile(s(`gen/file-${i}.h`), `#define N ${i}\n`);
    await settled("a 1,000-file burst");
    const burstBatches = batches() - before;
    assert.ok(burstBatches <= 10, `a 1,000-file burst arrives in a few batches, not ${burstBatches}`);
    // The guest-only file survived every batch; the host never got it.
    assert.equal(await hangar(["ssh", "-c", "cat /srv/src/guest-only.txt"]), "guest-only\n");
    assert.ok(!existsSync(s("guest-only.txt")));
  } finally {
    child.stdin!.end();
  }
  assert.equal(await exited, 0, out);
});
