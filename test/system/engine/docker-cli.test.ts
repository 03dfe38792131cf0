// Hangar's engine as the real docker CLI sees it: the built `hangar` CLI
// starts the engine in a temporary HANGAR_HOME, then `docker` (client 28,
// API 1.50, no DOCKER_API_VERSION: it must negotiate down to 1.43 through
// /_ping) drives system and image commands against its socket. busybox is
// made from Debian's busybox-static (this machine's apt mirror); a shared
// download cache from other system tests is reused when there is one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar-stream";
import packageJson from "../../../package.json";
import { dockerEnv, runCommand, type Run } from "../fixtures/command-run";

const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
const SHARED_CACHE = path.join(os.tmpdir(), "hangar-test-default-box", "cache");

let home = "";
let socket = "";
let dockerConfig = "";

function run(file: string, args: string[], env: NodeJS.ProcessEnv, allowFail: boolean): Promise<Run> {
  return runCommand(file, args, { env, cwd: home, allowFail, timeoutMs: 300_000, maxBuffer: 64 * 1024 * 1024 });
}

function hangar(args: string[], allowFail = false): Promise<Run> {
  return run(process.execPath, [CLI, ...args], { ...process.env, HANGAR_HOME: home }, allowFail);
}

function docker(args: string[], allowFail = false): Promise<Run> {
  return run("docker", args, dockerEnv(socket, dockerConfig, { DOCKER_BUILDKIT: "0" }), allowFail);
}

async function imageId(ref: string): Promise<string> {
  return (await docker(["image", "inspect", "-f", "{{.Id}}", ref])).stdout.trim();
}

before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "hangar-engine-home-"));
  socket = path.join(home, "docker.sock");
  dockerConfig = path.join(home, "docker-config");
  // Saves the Debian download (the package index and busybox-static) when another test already made it.
  if (existsSync(SHARED_CACHE)) await cp(SHARED_CACHE, path.join(home, "cache"), { recursive: true });
});

after(async () => {
  if (!home) return;
  // Stop this test's engine by its pid (the CLI signals the pid in its pid file).
  const stopped = await hangar(["engine", "stop"], true);
  if (stopped.code !== 0) {
    const pid = Number((await readFile(path.join(home, "engine", "engine.pid"), "utf8").catch(() => "")).trim());
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("hangar engine start: runs detached, answers on HANGAR_HOME/docker.sock (0600); a second start is a no-op", async () => {
  const started = await hangar(["engine", "start"]);
  assert.match(started.stdout, new RegExp(`running \\(pid \\d+\\), listening on unix://${socket.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.equal((await stat(socket)).mode & 0o777, 0o600);
  const again = await hangar(["engine", "start"]);
  assert.match(again.stdout, /already running \(pid \d+\).*nothing to do/);
  const status = await hangar(["engine", "status"]);
  assert.match(status.stdout, /^Hangar's engine: running$/m);
  assert.match(status.stdout, /API version: 1\.43 \(minimum 1\.24\)/);
  assert.equal((await hangar(["engine", "env"])).stdout.split("\n")[0], `export DOCKER_HOST=unix://${socket}`);
});

test("docker version and docker info: the client negotiates API 1.43; the server is Hangar's", async () => {
  const version = await docker(["version"]);
  assert.match(version.stdout, /API version:\s+1\.43 \(downgraded from 1\.\d+\)/);
  assert.match(version.stdout, /^Server: Hangar embedded engine$/m);
  assert.match(version.stdout, new RegExp(`^ {2}Version:\\s+${packageJson.version.replace(/\./g, "\\.")}$`, "m"));
  assert.match(version.stdout, /^ {2}API version:\s+1\.43 \(minimum version 1\.24\)$/m);
  assert.match(version.stdout, /^ {2}OS\/Arch:\s+linux\/386$/m);

  const info = await docker(["info"]);
  assert.match(info.stdout, /^ Operating System: Hangar embedded engine \(v86\)$/m);
  assert.match(info.stdout, /^ Architecture: i686$/m);
  assert.match(info.stdout, /^ Storage Driver: overlay2$/m);
  assert.match(info.stdout, /^ Containers: 0$/m);
  assert.match(info.stdout, /^ CPUs: 1$/m);
  assert.match(info.stdout, new RegExp(`^ Docker Root Dir: ${path.join(home, "engine").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  // Containers have networking, TTYs and stdin: only the builder's limit is worth a warning.
  assert.doesNotMatch(info.stderr, /without networking/);
  assert.match(info.stderr, /no BuildKit: builds use the classic builder/);
});

test("docker pull busybox makes the built-in image; images, inspect and history show it", { timeout: 300_000 }, async () => {
  const pulled = await docker(["pull", "busybox"]);
  assert.match(pulled.stdout, /Status: Downloaded newer image for busybox:latest/);
  assert.match((await docker(["pull", "busybox"])).stdout, /Status: Image is up to date for busybox:latest/);
  const other = await docker(["pull", "alpine"], true);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /cannot be reached/, "images that are not built in come from the registry (none here)");

  assert.match((await docker(["images"])).stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s/m);
  const [inspect] = JSON.parse((await docker(["image", "inspect", "busybox"])).stdout) as Array<{
    Id: string;
    Architecture: string;
    Os: string;
    RootFS: { Type: string; Layers: string[] };
    Config: { Cmd: string[] };
    RepoTags: string[];
  }>;
  assert.equal(inspect.Architecture, "386");
  assert.equal(inspect.Os, "linux");
  assert.equal(inspect.RootFS.Type, "layers");
  assert.equal(inspect.RootFS.Layers.length, 1);
  assert.match(inspect.RootFS.Layers[0], /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(inspect.Config.Cmd, ["sh"]);
  assert.deepEqual(inspect.RepoTags, ["busybox:latest"]);
  const history = await docker(["history", "--no-trunc", "busybox"]);
  assert.match(history.stdout, /busybox-static .* from Debian/);
  assert.match(history.stdout, new RegExp(inspect.Id));
});

test("docker tag / rmi (untag only) and docker events --since/--until show the tag event", async () => {
  const since = Math.floor(Date.now() / 1000);
  const id = await imageId("busybox");
  await docker(["tag", "busybox", "mybox:1"]);
  assert.match((await docker(["images"])).stdout, /^mybox\s+1\s+[0-9a-f]{12}\s/m);
  const rmi = await docker(["rmi", "mybox:1"]);
  assert.match(rmi.stdout, /^Untagged: mybox:1$/m);
  assert.doesNotMatch(rmi.stdout, /Deleted:/);
  assert.equal(await imageId("busybox"), id, "busybox is untouched");
  // until must lie after the events (it has whole-second precision on the command line): the CLI waits for it.
  const until = Math.floor(Date.now() / 1000) + 1;
  const events = await docker(["events", "--since", String(since), "--until", String(until)]);
  assert.match(events.stdout, new RegExp(`image tag ${id} \\(name=mybox:1\\)`));
  assert.match(events.stdout, new RegExp(`image untag ${id}`));
  const filtered = await docker(["events", "--since", String(since), "--until", String(until), "--filter", "event=untag"]);
  assert.doesNotMatch(filtered.stdout, / image tag /);
});

test("docker save, rmi, load: the same image ID comes back", async () => {
  const id = await imageId("busybox");
  const archive = path.join(home, "x.tar");
  await docker(["save", "busybox", "-o", archive]);
  assert.ok((await stat(archive)).size > 100_000);
  const rmi = await docker(["rmi", "busybox"]);
  assert.match(rmi.stdout, new RegExp(`^Deleted: ${id}$`, "m"));
  assert.doesNotMatch((await docker(["images"])).stdout, /busybox/);
  const loaded = await docker(["load", "-i", archive]);
  assert.match(loaded.stdout, /Loaded image: busybox:latest/);
  assert.equal(await imageId("busybox"), id);
});

test("docker image prune, ps, system df", async () => {
  assert.match((await docker(["image", "prune", "-f"])).stdout, /Total reclaimed space: 0B/);
  assert.match((await docker(["images"])).stdout, /^busybox\s+latest/m, "prune keeps tagged images");
  const ps = await docker(["ps", "-a"]);
  assert.deepEqual(ps.stdout.trim().split("\n").length, 1, "only the header: no containers");
  assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE/);
  const df = await docker(["system", "df"]);
  assert.match(df.stdout, /^Images\s+1\s+0\s+\d/m);
  assert.match(df.stdout, /^Containers\s+0\s+0\s+0B/m);
});

test("unsupported endpoints, malformed JSON and a hostile archive get clear errors and change nothing", async () => {
  const plugins = await docker(["plugin", "ls"], true);
  assert.notEqual(plugins.code, 0);
  assert.match(plugins.stderr, /Hangar's engine does not support GET \/plugins yet/);

  const curl = await run(
    "curl",
    ["-sS", "--unix-socket", socket, "-X", "POST", "-H", "Content-Type: application/json", "-d", "{not json", "-w", "\n%{http_code}", "http://localhost/v1.43/auth"],
    process.env,
    false,
  );
  const lines = curl.stdout.trim().split("\n");
  const code = lines.pop();
  const body = lines.join("\n");
  assert.equal(code, "400");
  assert.match((JSON.parse(body) as { message: string }).message, /^The request body is not valid JSON/);

  const before = (await docker(["images", "--no-trunc"])).stdout;
  const evilName = `hangar-evil-${process.pid}`;
  const pack = tar.pack();
  pack.entry({ name: `../${evilName}`, mode: 0o644 }, "pwned\n");
  pack.entry({ name: `../../${evilName}`, mode: 0o644 }, "pwned\n");
  pack.entry({ name: "manifest.json", mode: 0o644 }, "[]");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  const evil = path.join(home, "evil.tar");
  await writeFile(evil, Buffer.concat(chunks));
  const load = await docker(["load", "-i", evil], true);
  assert.notEqual(load.code, 0);
  assert.match(load.stderr + load.stdout, new RegExp(`"\\.\\./${evilName}".*unsafe`));
  assert.equal((await docker(["images", "--no-trunc"])).stdout, before);
  assert.ok(!(await readdir(home, { recursive: true })).some((f) => f.endsWith(evilName)));
  for (const dir of [path.dirname(home), path.dirname(path.dirname(home))]) assert.ok(!existsSync(path.join(dir, evilName)), dir);
});

test("docker build with a hostile context and Dockerfile: a symlink out of the context is copied as a link, never followed; ../ sources and unknown instructions are refused, naming the line; no image is made", async () => {
  const ctx = await mkdtemp(path.join(home, "ctx-"));
  const secret = path.join(home, "outside-secret.txt");
  await writeFile(secret, "host secret\n");
  await symlink(secret, path.join(ctx, "leak"));
  await writeFile(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY leak /leak\n");
  await docker(["build", "-q", "-t", "hostile:ok", ctx]);
  const saved = path.join(home, "hostile.tar");
  await docker(["save", "hostile:ok", "-o", saved]);
  const layerEntries = await tarEntriesOfLayers(saved);
  const leak = layerEntries.find((e) => e.name === "leak");
  assert.ok(leak, `entries: ${layerEntries.map((e) => e.name).join(", ")}`);
  assert.equal(leak.type, "symlink");
  assert.equal(leak.linkname, secret);
  assert.ok(!layerEntries.some((e) => e.content?.includes("host secret")), "the secret's content is in no layer");

  const imagesBefore = (await docker(["images", "-q", "--no-trunc"])).stdout;
  await writeFile(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY ../outside-secret.txt /x\n");
  const escape = await docker(["build", "-t", "hostile:escape", ctx], true);
  assert.notEqual(escape.code, 0);
  assert.match(escape.stderr + escape.stdout, /forbidden path outside the build context/);
  await writeFile(path.join(ctx, "Dockerfile"), "FROM scratch\nLABEL a=b\nFROBNICATE now\n");
  const unknown = await docker(["build", "-t", "hostile:unknown", ctx], true);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr + unknown.stdout, /Dockerfile:3: unknown instruction: FROBNICATE/i);
  assert.equal((await docker(["images", "-q", "--no-trunc"])).stdout, imagesBefore);
  await docker(["rmi", "hostile:ok"]);
});

/** Every entry of every layer in a `docker save` archive (content kept for small files). */
async function tarEntriesOfLayers(archive: string): Promise<Array<{ name: string; type: string; linkname?: string; content?: string }>> {
  const files = await untar(await readFile(archive));
  const manifest = JSON.parse(files.get("manifest.json")!.toString()) as Array<{ Layers: string[] }>;
  const out: Array<{ name: string; type: string; linkname?: string; content?: string }> = [];
  for (const layer of manifest[0].Layers) {
    const entries = await untarEntries(files.get(layer)!);
    out.push(...entries);
  }
  return out;
}

async function untarEntries(data: Buffer): Promise<Array<{ name: string; type: string; linkname?: string; content?: string; data: Buffer }>> {
  const out: Array<{ name: string; type: string; linkname?: string; content?: string; data: Buffer }> = [];
  const extract = tar.extract();
  await new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        out.push({
          name: header.name.replace(/^\.\//, "").replace(/\/$/, ""),
          type: header.type ?? "file",
          ...(header.linkname ? { linkname: header.linkname } : {}),
          content: Buffer.concat(chunks).toString(),
          data: Buffer.concat(chunks),
        });
        next();
      });
    });
    extract.on("finish", resolve).on("error", reject);
    extract.end(data);
  });
  return out;
}

async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const e of await untarEntries(data)) if (e.type === "file") files.set(e.name, e.data);
  return files;
}

test("a crashed engine's socket does not block the next start, and the images survive", async () => {
  const pid = Number((await readFile(path.join(home, "engine", "engine.pid"), "utf8")).trim());
  process.kill(pid, "SIGKILL");
  // Until the process is gone (a signal is delivered asynchronously).
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 400 && alive(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(socket), "SIGKILL leaves the socket file behind");
  assert.match((await hangar(["engine", "status"])).stdout, /^Hangar's engine: stopped$/m);
  const started = await hangar(["engine", "start"]);
  assert.match(started.stdout, /running \(pid \d+\)/);
  assert.notEqual(Number(/pid (\d+)/.exec(started.stdout)?.[1]), pid);
  assert.match((await docker(["images"])).stdout, /^busybox\s+latest/m);
});

test("hangar engine stop: docker cannot connect any more; status says stopped; stop again is a no-op", async () => {
  assert.match((await hangar(["engine", "stop"])).stdout, /^Stopped Hangar's engine \(pid \d+\)\.$/m);
  const version = await docker(["version"], true);
  assert.notEqual(version.code, 0);
  assert.match(version.stderr, /Cannot connect to the Docker daemon/);
  assert.match((await hangar(["engine", "status"])).stdout, /^Hangar's engine: stopped$/m);
  assert.ok(!existsSync(socket), "the socket is gone");
  assert.match((await hangar(["engine", "stop"])).stdout, /not running; nothing to stop/);
});
