// Volumes and bind mounts through the real docker CLI: named volumes are host
// folders under HANGAR_HOME/engine/volumes that the engine machine sees over
// 9p, so their data outlives containers and engine restarts; bind mounts come
// from the host folders shared with the engine machine (HANGAR_ENGINE_SHARES
// here names one temporary folder, so "outside" is exact).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../fixtures/command-run";
import { FIXTURE_MEMORY_MIB } from "../fixtures/default-box-home";
import { EngineUnderTest } from "../fixtures/engine-under-test";

const execFileP = promisify(execFile);
let engine: EngineUnderTest;
/** The one host folder shared with the engine machine in these tests. */
let shared = "";
/** A host folder outside it. */
let unshared = "";

function docker(args: string[], allowFail = false): Promise<Run> {
  return engine.docker(args, allowFail);
}

function hangar(args: string[], allowFail = false): Promise<Run> {
  return engine.hangar(args, allowFail);
}

async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await docker(args, true);
  assert.notEqual(r.code, 0, `docker ${args.join(" ")} should fail`);
  assert.match(r.stderr, message);
}

before(async () => {
  shared = await mkdtemp(path.join(os.tmpdir(), "hangar-shared-"));
  unshared = await mkdtemp(path.join(os.tmpdir(), "hangar-unshared-"));
  engine = await EngineUnderTest.start({ env: { HANGAR_ENGINE_SHARES: shared } });
});

after(async () => {
  await engine?.stop();
  for (const dir of [shared, unshared]) await rm(dir, { recursive: true, force: true });
});

test("a named volume: create, a container writes, a new container reads, ls/inspect, rm refused while in use, data kept across an engine restart", { timeout: 400_000 }, async () => {
  assert.equal((await docker(["volume", "create", "data"])).stdout, "data\n");
  const dataDir = path.join(engine.home, "engine", "volumes", "data", "_data");
  const inspect = JSON.parse((await docker(["volume", "inspect", "data"])).stdout)[0];
  assert.deepEqual({ ...inspect, CreatedAt: "" }, { CreatedAt: "", Driver: "local", Labels: null, Mountpoint: dataDir, Name: "data", Options: null, Scope: "local" });
  assert.match(inspect.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  await docker(["run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f"]);
  assert.equal(await readFile(path.join(dataDir, "f"), "utf8"), "kept\n", "the volume's files are on the host");
  const mounts = JSON.parse((await docker(["inspect", "-f", "{{json .Mounts}}", "writer"])).stdout);
  assert.deepEqual(mounts, [{ Type: "volume", Name: "data", Source: dataDir, Destination: "/data", Driver: "local", Mode: "z", RW: true, Propagation: "" }]);
  const writerId = (await docker(["inspect", "-f", "{{.Id}}", "writer"])).stdout.trim();
  await refused(["volume", "rm", "data"], new RegExp(`remove data: volume is in use - \\[${writerId}\\]`));
  assert.equal((await docker(["volume", "ls", "--filter", "dangling=true", "-q"])).stdout, "");
  await docker(["rm", "writer"]);
  assert.equal((await docker(["volume", "ls", "--filter", "dangling=true", "-q"])).stdout, "data\n");

  assert.equal((await docker(["run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f"])).stdout, "kept\n");
  assert.equal((await docker(["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])).stdout, "local data\n");

  await hangar(["engine", "stop"]);
  await hangar(["engine", "start", "--memory", String(FIXTURE_MEMORY_MIB)]);
  assert.equal((await docker(["volume", "ls", "-q"])).stdout, "data\n", "the volume is still known after a restart");
  assert.equal((await docker(["run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f"])).stdout, "kept\n", "and its data is still there, in a new engine machine");

  assert.equal((await docker(["volume", "rm", "data"])).stdout, "data\n");
  assert.equal((await docker(["volume", "ls", "-q"])).stdout, "");
  assert.equal(existsSync(path.join(engine.home, "engine", "volumes", "data")), false, "its folder is gone");
  await refused(["volume", "inspect", "data"], /no such volume/);
});

test("-v name:/path creates the volume and fills it from the image; :ro refuses writes; --mount type=volume and --tmpfs", { timeout: 300_000 }, async () => {
  assert.equal((await docker(["run", "--rm", "-v", "etc:/etc", "busybox", "sh", "-c", "ls /etc; echo changed > /etc/motd"])).stdout, "group\nhostname\nhosts\npasswd\nresolv.conf\n");
  // The container's root at /etc (the image's files and the engine's empty hostname, hosts and resolv.conf, as in Docker) was copied into the new volume, then the container wrote to it.
  assert.deepEqual((await readdir(path.join(engine.home, "engine", "volumes", "etc", "_data"))).sort(), ["group", "hostname", "hosts", "motd", "passwd", "resolv.conf"]);
  // Not empty any more: not filled again, so the container's change is what the next one sees.
  assert.equal((await docker(["run", "--rm", "-v", "etc:/etc:ro", "busybox", "cat", "/etc/motd"])).stdout, "changed\n");
  const ro = await docker(["run", "--rm", "-v", "etc:/etc:ro", "busybox", "sh", "-c", "echo x > /etc/motd"], true);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  const mount = await docker([
    "run",
    "--rm",
    "--mount",
    "type=volume,source=etc,target=/conf,readonly",
    "--tmpfs",
    "/scratch:size=1m",
    "busybox",
    "sh",
    "-c",
    "cat /conf/motd; touch /conf/x 2>/dev/null || echo ro; grep -c ' /scratch tmpfs ' /proc/mounts",
  ]);
  assert.equal(mount.stdout, "changed\nro\n1\n");
  await docker(["volume", "rm", "etc"]);
});

test(
  "bind mounts of a shared host folder work both ways; :ro refuses writes; a missing -v source is made, a missing --mount source and a folder outside the shared ones are refused",
  { timeout: 300_000 },
  async () => {
    const dir = path.join(shared, "project");
    await mkdir(dir);
    await writeFile(path.join(dir, "in.txt"), "from the host\n");
    const both = await docker(["run", "--rm", "-v", `${dir}:/work`, "-w", "/work", "busybox", "sh", "-c", "cat in.txt; echo from the container > out.txt"]);
    assert.equal(both.stdout, "from the host\n");
    assert.equal(await readFile(path.join(dir, "out.txt"), "utf8"), "from the container\n");

    const ro = await docker(["run", "--rm", "-v", `${dir}:/work:ro`, "busybox", "sh", "-c", "cat /work/in.txt; echo x > /work/in.txt"], true);
    assert.equal(ro.stdout, "from the host\n");
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(await readFile(path.join(dir, "in.txt"), "utf8"), "from the host\n");

    const file = await docker(["run", "--rm", "-v", `${path.join(dir, "in.txt")}:/etc/greeting:ro`, "busybox", "cat", "/etc/greeting"]);
    assert.equal(file.stdout, "from the host\n", "a single host file");

    await docker(["run", "--rm", "-v", `${path.join(shared, "made", "here")}:/x`, "busybox", "touch", "/x/new"]);
    assert.equal(existsSync(path.join(shared, "made", "here", "new")), true, "-v makes a missing host folder, as Docker does");
    await refused(["run", "--rm", "--mount", `type=bind,source=${path.join(shared, "nope")},target=/x`, "busybox", "true"], /bind source path does not exist: .*nope/);

    await writeFile(path.join(unshared, "secret"), "no\n");
    await refused(
      ["run", "--rm", "-v", `${unshared}:/x`, "busybox", "cat", "/x/secret"],
      new RegExp(`bind mount source ${unshared} is not in a folder shared with Hangar's engine machine \\(shared: ${shared}\\).*HANGAR_ENGINE_SHARES`),
    );
    assert.equal((await docker(["ps", "-aq"])).stdout, "", "refused runs leave no container behind");
  },
);

test(
  "anonymous volumes: -v /path and an image's VOLUME (filled from the image), rm -v and --rm remove them, prune takes anonymous ones (all with -a), system df counts them",
  { timeout: 400_000 },
  async () => {
    const context = await mkdtemp(path.join(os.tmpdir(), "hangar-volume-context-"));
    try {
      await writeFile(path.join(context, "Dockerfile"), "FROM busybox\nRUN mkdir /seed && echo seeded > /seed/x\nVOLUME /seed\n");
      await docker(["build", "-q", "-t", "seeded", context]);
    } finally {
      await rm(context, { recursive: true, force: true });
    }
    assert.equal((await docker(["run", "--name", "seed", "-v", "/scratch", "seeded", "sh", "-c", "cat /seed/x; echo s > /scratch/s"])).stdout, "seeded\n");
    const mounts = JSON.parse((await docker(["inspect", "-f", "{{json .Mounts}}", "seed"])).stdout) as Array<{ Type: string; Name: string; Destination: string; RW: boolean }>;
    assert.deepEqual(
      mounts.map((m) => `${m.Type} ${m.Destination} ${m.RW}`),
      ["volume /scratch true", "volume /seed true"],
    );
    for (const m of mounts) assert.match(m.Name, /^[0-9a-f]{64}$/);
    assert.equal(await readFile(path.join(engine.home, "engine", "volumes", mounts[1].Name, "_data", "x"), "utf8"), "seeded\n");
    const names = (await docker(["volume", "ls", "-q"])).stdout.trim().split("\n").sort();
    assert.deepEqual(names, mounts.map((m) => m.Name).sort());
    assert.equal((await docker(["volume", "inspect", "-f", "{{json .Labels}}", mounts[0].Name])).stdout.trim(), '{"com.docker.volume.anonymous":""}');

    await docker(["rm", "-v", "seed"]);
    assert.equal((await docker(["volume", "ls", "-q"])).stdout, "", "rm -v removed both anonymous volumes");
    assert.equal((await docker(["run", "--rm", "-v", "/gone", "busybox", "sh", "-c", "echo x > /gone/x && cat /gone/x"])).stdout, "x\n");
    assert.equal((await docker(["volume", "ls", "-q"])).stdout, "", "--rm removes the container's anonymous volumes too");

    // Prune: anonymous volumes no container uses; named ones only with -a.
    await docker(["volume", "create", "named"]);
    await docker(["run", "--name", "holder", "-v", "/held", "busybox", "true"]);
    await docker(["create", "-v", "/loose", "busybox", "true"]);
    const loose = (await docker(["ps", "-lq"])).stdout.trim();
    const looseVolume = (await docker(["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", loose])).stdout.trim();
    await docker(["rm", loose]); // without -v: its volume stays, unused
    const df = await docker(["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
    assert.match(df.stdout, /^Local Volumes 3 1$/m);
    const pruned = await docker(["volume", "prune", "-f"]);
    assert.match(pruned.stdout, new RegExp(`Deleted Volumes:\\n${looseVolume}\\n`));
    assert.equal((await docker(["volume", "ls", "-q"])).stdout.split("\n").filter(Boolean).length, 2, "the named volume and the one in use stay");
    await docker(["rm", "holder"]);
    await docker(["volume", "prune", "-af"]);
    assert.equal((await docker(["volume", "ls", "-q"])).stdout, "");
  },
);

test("a program watching a bind-mounted folder with inotify in a container hears of host edits and new files, and the host file is left as saved", { timeout: 300_000 }, async () => {
  const dir = path.join(shared, "watched-project");
  await mkdir(path.join(dir, "src", "sub"), { recursive: true });
  await writeFile(path.join(dir, "src", "app.js"), "v1\n");
  // A real inotify client (what nodemon, webpack and chokidar use underneath), static for the engine's i386 guest.
  await execFileP("gcc", ["-m32", "-static", "-O1", "-o", path.join(dir, "inotify-watch"), path.join(__dirname, "..", "sync", "inotify-watch.c")]);
  await docker(["run", "-d", "--name", "watcher", "-v", `${dir}:/app`, "busybox", "/app/inotify-watch", "/app/src", "/app/src/sub"]);
  const events = async (): Promise<string[]> => (await docker(["logs", "watcher"])).stdout.split("\n").filter(Boolean);
  const until = async (what: string, ok: (e: string[]) => boolean): Promise<void> => {
    for (let i = 0; i < 150; i++) {
      if (ok(await events())) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`no ${what}; the container's watcher printed:\n${(await events()).join("\n")}`);
  };
  await until("start", (e) => e.includes("watching"));
  // A save in the editor: the folder's watcher hears IN_MODIFY (the container started once the engine held its folders).
  await writeFile(path.join(dir, "src", "app.js"), "v2\n");
  await until("IN_MODIFY for the host's edit", (e) => e.includes("/app/src MODIFY, app.js"));
  const saved = await lstat(path.join(dir, "src", "app.js"));
  await writeFile(path.join(dir, "src", "sub", "new.js"), "new\n");
  await until("event for a file made in a subfolder", (e) => e.includes("/app/src/sub CLOSE_WRITE, new.js"));
  assert.equal((await docker(["exec", "watcher", "cat", "/app/src/sub/new.js"])).stdout, "new\n");
  // The events changed nothing on the host: the edited file keeps its bytes and mtime.
  assert.equal(await readFile(path.join(dir, "src", "app.js"), "utf8"), "v2\n");
  assert.equal((await lstat(path.join(dir, "src", "app.js"))).mtimeMs, saved.mtimeMs);
  // The container's own write is heard once (the kernel's event): the relay does not echo it back from the host.
  await docker(["exec", "watcher", "sh", "-c", "echo more >> /app/src/app.js"]);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await events()).filter((e) => e === "/app/src MODIFY, app.js").length, 2, (await events()).join("\n"));
  await docker(["rm", "-f", "watcher"]);
  await rm(dir, { recursive: true, force: true });
});

test("bad volume input is refused with Docker's message and changes nothing", { timeout: 120_000 }, async () => {
  await refused(["volume", "create", "-d", "nfs", "vol1"], /Volume driver "nfs" is not available: Hangar's engine has only the "local" driver/);
  await refused(["volume", "create", "--opt", "type=tmpfs", "vol1"], /takes no driver options \(type\)/);
  await refused(["volume", "create", "bad name"], /includes invalid characters for a local volume name/);
  await refused(["run", "--rm", "-v", "vol1:relative", "busybox", "true"], /not an absolute path|invalid/);
  await refused(["run", "--rm", "-v", "vol1:/a", "-v", "vol2:/a", "busybox", "true"], /Duplicate mount point: \/a/);
  await refused(["volume", "rm", "nosuch"], /no such volume/);
  assert.equal((await docker(["volume", "ls", "-q"])).stdout, "", "no volume was made");
  assert.equal((await docker(["ps", "-aq"])).stdout, "");
});
