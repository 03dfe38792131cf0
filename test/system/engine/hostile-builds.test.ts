// Hostile builds and images through the real docker CLI against the real
// embedded engine (issue 14, holes 4 and 5, and guest-side unpacking). One
// temporary folder stands in for the user's home: it is the only folder
// shared with the engine machine (at /var/lib/hangar/host/0), and holds a
// sentinel each test checks was never read into an image, changed or
// deleted. The engine runs with its own TMPDIR, so a whiteout that climbs
// out of a build context could only ever reach that folder.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { EngineUnderTest } from "../fixtures/engine-under-test";

const SECRET = "sentinel: the host's private bytes\n";

let engine: EngineUnderTest;
/** The stand-in home: the engine machine's only host share. */
let shared = "";
/** The engine's temporary folder (TMPDIR), where build contexts are unpacked. */
let engineTmp = "";
/** Build contexts and crafted archives. */
let work = "";

before(async () => {
  shared = await mkdtemp(path.join(os.tmpdir(), "hangar-hostile-home-"));
  engineTmp = await mkdtemp(path.join(os.tmpdir(), "hangar-hostile-tmp-"));
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-hostile-work-"));
  await writeFile(path.join(shared, "secret"), SECRET);
  await writeFile(path.join(shared, "victim"), SECRET);
  await writeFile(path.join(engineTmp, "keep"), "keep");
  engine = await EngineUnderTest.start({ env: { HANGAR_ENGINE_SHARES: shared, TMPDIR: engineTmp } });
});

after(async () => {
  await engine?.stop();
  for (const dir of [shared, engineTmp, work]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function sharedUntouched(): Promise<void> {
  assert.deepEqual((await readdir(shared)).sort(), ["secret", "victim"], "nothing appeared in (or went from) the shared home");
  assert.equal(await readFile(path.join(shared, "secret"), "utf8"), SECRET);
  assert.equal(await readFile(path.join(shared, "victim"), "utf8"), SECRET);
}

/** Every file body of every image in the engine: `docker save` of all of them, layers read member by member. */
async function allImageBytes(): Promise<string> {
  const ids = (await engine.docker(["images", "-aq"])).stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return "";
  const file = path.join(work, "all.tar");
  await engine.docker(["save", "-o", file, ...new Set(ids)]);
  const outer = await readMembers(await readFile(file));
  const bodies: string[] = [];
  for (const m of outer.values()) {
    if (m.header.type !== "file") continue;
    bodies.push(m.body.toString("latin1"));
    const inner = await readMembers(m.body).catch(() => undefined);
    for (const i of inner?.values() ?? []) bodies.push(i.body.toString("latin1"));
  }
  return bodies.join("\n");
}

interface Member {
  header: tar.Header;
  body: Buffer;
}

async function readMembers(data: Buffer): Promise<Map<string, Member>> {
  const out = new Map<string, Member>();
  const extract = tar.extract();
  Readable.from([data]).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
    out.set(entry.header.name, { header: entry.header, body: Buffer.concat(chunks) });
  }
  return out;
}

interface Item {
  name: string;
  type?: "file" | "directory" | "symlink";
  body?: string | Buffer;
  linkname?: string;
}

async function pack(items: Array<Item | { header: tar.Header; body: Buffer }>): Promise<Buffer> {
  const p = tar.pack();
  for (const item of items) {
    if ("header" in item) {
      if (item.header.type === "file") p.entry(item.header, item.body);
      else p.entry(item.header);
      continue;
    }
    const type = item.type ?? "file";
    const header = { name: item.name, type, mode: type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644, linkname: item.linkname, mtime: new Date("2024-01-01T00:00:00Z") };
    if (type === "file") p.entry(header, Buffer.from(item.body ?? ""));
    else p.entry(header);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

test("docker build: a cycle of three symlinks that the host would resolve to the home fails with 'too many levels of symbolic links'; no image holds the sentinel", { timeout: 400_000 }, async () => {
  const ctx = path.join(work, "cycle");
  await mkdir(ctx);
  // esc -> /tmp/hangar-hostile-home-X, tmp -> ., hangar-hostile-home-X -> esc: inside the context the three loop (an
  // absolute target starts again at the context's root); on the host "esc" is the shared home itself, so a resolver
  // that gave up and let the host finish the path would read the secret. (Deeper temp folders add one "-> ." per level.)
  const parts = shared.split("/").filter(Boolean);
  await symlink(shared, path.join(ctx, "esc"));
  for (const p of parts.slice(0, -1)) await symlink(".", path.join(ctx, p));
  await symlink("esc", path.join(ctx, parts[parts.length - 1]));
  await writeFile(path.join(ctx, "Dockerfile"), "FROM busybox\nCOPY esc/secret /loot\n");
  const r = await engine.docker(["build", "-t", "hostile-cycle", ctx], true);
  assert.notEqual(r.code, 0, "the build must fail");
  assert.match(r.stderr + r.stdout, /COPY failed: esc\/secret: too many levels of symbolic links/);
  assert.equal((await engine.docker(["images", "-q", "hostile-cycle"])).stdout.trim(), "", "no image was tagged");
  assert.ok(!(await allImageBytes()).includes(SECRET.trim()), "the sentinel is in no image");
  await sharedUntouched();
});

test("docker build: a context holding .wh... fails with a clear error and the engine's temporary folder is still there", { timeout: 400_000 }, async () => {
  const ctx = path.join(work, "whiteout");
  await mkdir(path.join(ctx, "sub"), { recursive: true });
  // At the context's root, `.wh...` names the folder above the context: the engine's TMPDIR.
  await writeFile(path.join(ctx, ".wh..."), "");
  await writeFile(path.join(ctx, "sub", ".wh.."), "");
  await writeFile(path.join(ctx, "Dockerfile"), "FROM busybox\nCOPY . /ctx/\n");
  const r = await engine.docker(["build", "-t", "hostile-wh", ctx], true);
  assert.notEqual(r.code, 0, "the build must fail");
  assert.match(r.stderr, /\.wh\.\.\..*whiteout naming "\.\."/);
  assert.equal(await readFile(path.join(engineTmp, "keep"), "utf8"), "keep", "the engine's temporary folder and its files survive");
  assert.equal((await engine.docker(["images", "-q", "hostile-wh"])).stdout.trim(), "");
  await sharedUntouched();
});

test("docker load + run: layers with symlinks to the engine machine's host share, then files and whiteouts through them, stay in the image", { timeout: 600_000 }, async () => {
  // A base with a shell: busybox, saved by the engine itself.
  await engine.docker(["build", "-t", "hostile-base", "-"], false, "FROM busybox\nLABEL hostile=base\n");
  const baseFile = path.join(work, "base.tar");
  await engine.docker(["save", "-o", baseFile, "hostile-base"]);
  const base = await readMembers(await readFile(baseFile));
  const manifest = JSON.parse(String(base.get("manifest.json")?.body)) as Array<{ Config: string; Layers: string[] }>;
  const config = JSON.parse(String(base.get(manifest[0].Config)?.body)) as { rootfs: { diff_ids: string[] }; history?: unknown[] };

  const share = "/var/lib/hangar/host/0";
  const layers = [
    // The folders exist in the image, so a confined unpack has somewhere to put the files; the links name the engine machine's share.
    await pack([
      { name: "var/", type: "directory" },
      { name: "var/lib/", type: "directory" },
      { name: "var/lib/hangar/", type: "directory" },
      { name: "var/lib/hangar/host/", type: "directory" },
      { name: "var/lib/hangar/host/0/", type: "directory" },
      { name: "esc", type: "symlink", linkname: share },
      { name: "up", type: "symlink", linkname: `${"../".repeat(12)}${share.slice(1)}` },
    ]),
    await pack([
      { name: "esc/.wh.victim", body: "" },
      { name: "esc/escaped-abs", body: "abs\n" },
      { name: "up/escaped-rel", body: "rel\n" },
    ]),
  ];
  const newConfig = JSON.stringify({
    ...config,
    rootfs: { type: "layers", diff_ids: [...config.rootfs.diff_ids, ...layers.map((l) => `sha256:${sha256(l)}`)] },
    history: [...(config.history ?? []), { created_by: "hostile 1" }, { created_by: "hostile 2" }],
  });
  const configName = `${sha256(newConfig)}.json`;
  const kept = [...base.values()].filter((m) => !["manifest.json", "index.json", "oci-layout", "repositories"].includes(m.header.name));
  const archive = await pack([
    ...kept,
    { name: configName, body: Buffer.from(newConfig) },
    { name: "hostile/1.tar", body: layers[0] },
    { name: "hostile/2.tar", body: layers[1] },
    { name: "manifest.json", body: JSON.stringify([{ Config: configName, RepoTags: ["hostile-image:1"], Layers: [...manifest[0].Layers, "hostile/1.tar", "hostile/2.tar"] }]) },
  ]);
  const archiveFile = path.join(work, "hostile.tar");
  await writeFile(archiveFile, archive);
  assert.match((await engine.docker(["load", "-i", archiveFile])).stdout, /Loaded image: hostile-image:1/);

  const r = await engine.docker(["run", "--rm", "hostile-image:1", "sh", "-c", `cat ${share}/escaped-abs ${share}/escaped-rel; ls ${share}`], true);
  await sharedUntouched();
  assert.equal(r.code, 0, `the container ran: ${r.stderr}`);
  assert.equal(r.stdout, "abs\nrel\nescaped-abs\nescaped-rel\n", "the files are inside the image, where its symlinks lead in a container");
  // Nothing named escaped-* anywhere under HANGAR_HOME either (its engine/volumes folder is the engine machine's other share).
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.name.startsWith("escaped-")) found.push(path.join(dir, e.name));
      if (e.isDirectory()) await walk(path.join(dir, e.name));
    }
  };
  await walk(engine.home);
  assert.deepEqual(found, []);
});

test("docker load: a layer with a .wh... whiteout is refused and changes nothing", { timeout: 200_000 }, async () => {
  const layer = await pack([
    { name: "d/", type: "directory" },
    { name: "d/.wh...", body: "" },
  ]);
  const config = JSON.stringify({ architecture: "386", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${sha256(layer)}`] }, history: [{ created_by: "evil" }] });
  const archive = await pack([
    { name: "c.json", body: Buffer.from(config) },
    { name: "l.tar", body: layer },
    { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", RepoTags: ["hostile-wh-load:1"], Layers: ["l.tar"] }]) },
  ]);
  const file = path.join(work, "wh-load.tar");
  await writeFile(file, archive);
  const r = await engine.docker(["load", "-i", file], true);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /d\/\.wh\.\.\..*whiteout naming "\.\."/);
  assert.equal((await engine.docker(["images", "-q", "hostile-wh-load"])).stdout.trim(), "");
  await sharedUntouched();
});
