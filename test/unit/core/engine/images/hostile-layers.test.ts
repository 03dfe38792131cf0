// Hostile layers against every place that reads them: layer application on
// the host (applyLayer), the checks of `docker load` (checkLayerTar, the
// store's load), the guest's whiteout list (whiteoutsOf) and the guest's
// unpacking (image-unpack.ts, run here for real: chroot and a static busybox
// on this host, as root). A folder beside the root stands in for the home
// folder (or the engine machine's host share): its sentinel must never be
// read, changed or deleted, and nothing may appear in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, readFile, readlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { applyLayer, checkLayerTar } from "../../../../../src/core/engine/images/layer-apply";
import { ImageArchiveError } from "../../../../../src/core/engine/images/image-errors";
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { prepareLayer, unpackImage, type UnpackShell } from "../../../../../src/core/engine/runtime/image-unpack";
import { whiteoutsOf } from "../../../../../src/core/engine/runtime/layer-whiteouts";
import { listTree, makeTar, readTar, sha256, stream, withTempDir, writeLayerFile, type TarItem } from "./tar-fixtures";
import { dockerList } from "./docker-shapes";

const SECRET = "sentinel: the host's private bytes";
const BAD_WHITEOUTS = [".wh.", ".wh..", ".wh..."];

interface Sandbox {
  dir: string;
  root: string;
  outside: string;
}

/** <tmp>/root to unpack into, <tmp>/outside/victim the sentinel; afterwards nothing outside the root changed. */
async function sandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "root");
    const outside = path.join(dir, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, "victim"), SECRET);
    await fn({ dir, root, outside });
    assert.deepEqual(await listTree(outside), ["victim"], "nothing appeared in (or went from) the folder outside");
    assert.equal(await readFile(path.join(outside, "victim"), "utf8"), SECRET, "the sentinel is unchanged");
    assert.ok((await lstat(root)).isDirectory(), "the root itself is still there");
  });
}

async function apply(items: TarItem[], root: string): Promise<void> {
  await applyLayer(stream(await makeTar(items)), root);
}

function isArchiveError(message: RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof ImageArchiveError, `an ImageArchiveError, not ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

test("whiteouts naming nothing, '.' or '..' are refused by applyLayer, and the folders they name survive", async () => {
  for (const name of BAD_WHITEOUTS) {
    await sandbox(async ({ root }) => {
      await apply([{ name: "d/keep", body: "k" }], root);
      for (const at of [name, `d/${name}`, `d/sub/${name}`]) {
        await assert.rejects(apply([{ name: at, body: "" }], root), isArchiveError(/whiteout naming/));
      }
      assert.deepEqual(await listTree(root), ["d/", "d/keep"]);
    });
  }
});

test("the opaque marker empties only its own folder; aufs markers are skipped; an opaque marker through a symlink stays in the root", async () => {
  await sandbox(async ({ root, outside }) => {
    await apply(
      [
        { name: "d/old", body: "o" },
        { name: "link", type: "symlink", linkname: outside },
        { name: "up", type: "symlink", linkname: "../outside" },
      ],
      root,
    );
    await apply(
      [
        { name: "d/.wh..wh..opq", body: "" },
        { name: "d/new", body: "n" },
        { name: ".wh..wh.plnk", body: "" },
        { name: "link/.wh..wh..opq", body: "" },
        { name: "up/.wh..wh..opq", body: "" },
        { name: "link/.wh.victim", body: "" },
        { name: "up/.wh.victim", body: "" },
      ],
      root,
    );
    assert.ok((await listTree(root)).includes("d/new"));
    assert.ok(!(await listTree(root)).includes("d/old"));
  });
});

test("entry names with '..', and hard links leading out, are refused before anything is written for them", async () => {
  await sandbox(async ({ root }) => {
    for (const items of [
      [{ name: "../outside/victim", body: "pwned" }],
      [{ name: "a/../../outside/victim", body: "pwned" }],
      [{ name: "h", type: "link" as const, linkname: "../outside/victim" }],
      [{ name: "h", type: "link" as const, linkname: "/../outside/victim" }],
    ]) {
      await assert.rejects(apply(items, root), isArchiveError(/climbs out/));
    }
    assert.deepEqual(await listTree(root), []);
  });
});

test("absolute and '..' symlinks, then entries through them in the same or a later layer, land inside the root", async () => {
  await sandbox(async ({ root, outside }) => {
    await apply(
      [
        { name: "abs", type: "symlink", linkname: outside },
        { name: "rel", type: "symlink", linkname: "../../../../../../../../.." + outside },
        { name: "abs/same-layer", body: "1" },
      ],
      root,
    );
    await apply(
      [
        { name: "abs/later", body: "2" },
        { name: "rel/later-rel", body: "3" },
        { name: "abs/.wh.victim", body: "" },
        { name: "rel/victim", body: "overwritten?" },
      ],
      root,
    );
    const inside = path.join(root, outside);
    assert.equal(await readFile(path.join(inside, "same-layer"), "utf8"), "1");
    assert.equal(await readFile(path.join(inside, "later"), "utf8"), "2");
    assert.equal(await readFile(path.join(inside, "later-rel"), "utf8"), "3");
    assert.equal(await readFile(path.join(inside, "victim"), "utf8"), "overwritten?");
    assert.equal(await readlink(path.join(root, "abs")), outside, "symlinks are kept as they are");
    // A hard link to the victim through a symlink links the root's own file.
    await apply([{ name: "h", type: "link", linkname: "abs/victim" }], root);
    assert.equal(await readFile(path.join(root, "h"), "utf8"), "overwritten?");
  });
});

test("symlink cycles of two and three, and a chain of 41, are 'too many levels of symbolic links'; 40 resolves", async () => {
  await sandbox(async ({ root, outside }) => {
    const chain = (prefix: string, n: number, end: string): TarItem[] =>
      Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, type: "symlink" as const, linkname: i === n - 1 ? end : `${prefix}${i + 1}` }));
    await apply(
      [
        { name: "x", type: "symlink", linkname: "y" },
        { name: "y", type: "symlink", linkname: "x" },
        { name: "a", type: "symlink", linkname: "b" },
        { name: "b", type: "symlink", linkname: "c" },
        { name: "c", type: "symlink", linkname: "a" },
      ],
      root,
    );
    await apply([...chain("l", 40, outside), ...chain("m", 41, outside)], root);
    for (const name of ["x/victim", "a/victim", "m0/victim", "a/.wh.victim"]) {
      await assert.rejects(apply([{ name, body: "pwned" }], root), isArchiveError(new RegExp(`too many levels of symbolic links: "${name.replace(/\./g, "\\.")}"`)));
    }
    await apply([{ name: "l0/ok", body: "ok" }], root);
    assert.equal(await readFile(path.join(root, outside, "ok"), "utf8"), "ok");
  });
});

test("checkLayerTar, the store's load (docker load) and whiteoutsOf refuse the bad whiteouts", async () => {
  await withTempDir(async (dir) => {
    const store = await ImageStore.open(path.join(dir, "images"));
    for (const name of BAD_WHITEOUTS) {
      const layer = await makeTar([
        { name: "d/", type: "directory" },
        { name: `d/${name}`, body: "" },
      ]);
      await assert.rejects(checkLayerTar(stream(layer), "the layer"), isArchiveError(/whiteout naming/));
      const file = path.join(dir, "layer.tar");
      await writeFile(file, layer);
      await assert.rejects(whiteoutsOf(file), isArchiveError(/whiteout naming/));
      await assert.rejects(prepareLayer(file), isArchiveError(/whiteout naming/));
      const config = JSON.stringify({ architecture: "386", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [sha256(layer)] }, history: [{ created_by: "evil" }] });
      const archive = await makeTar([
        { name: "c.json", body: config },
        { name: "l.tar", body: layer },
        { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", RepoTags: ["evil:wh"], Layers: ["l.tar"] }]) },
      ]);
      await assert.rejects(store.load(stream(archive)), isArchiveError(/whiteout naming/));
    }
    assert.deepEqual(await dockerList(store), []);
  });
});

test("prepareLayer: whiteouts collected, markers, devices and the root entry left out, names normalised, '..' refused", async () => {
  await withTempDir(async (dir) => {
    const file = await writeLayerFile(dir, "l.tar", [
      { name: "./", type: "directory" },
      { name: "/etc/x", body: "x" },
      { name: "a/./b/../c", body: "c" },
      { name: "d/.wh.gone", body: "" },
      { name: ".wh.top", body: "" },
      { name: "o/.wh..wh..opq", body: "" },
      { name: ".wh..wh.plnk", body: "" },
      { name: "dev/sda", type: "character-device" },
      { name: "h", type: "link", linkname: "/etc/x" },
    ]);
    const prepared = await prepareLayer(file);
    assert.deepEqual(prepared.deleted, ["d/gone", "top"]);
    assert.deepEqual(prepared.opaque, ["o"]);
    const members = await readTar(prepared.tar);
    assert.deepEqual([...members.keys()], ["etc/x", "a/c", "h"]);
    assert.equal(members.get("h"), "-> etc/x");
    for (const bad of [[{ name: "../x", body: "" }], [{ name: "h", type: "link" as const, linkname: "../../x" }]]) {
      await assert.rejects(prepareLayer(await writeLayerFile(dir, "bad.tar", bad)), isArchiveError(/climbs out/));
    }
  });
});

/** The engine machine's shell, played by this host's: `sh -c` as root, with chroot and a static /bin/busybox. */
const localShell: UnpackShell = {
  run: (command, o = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      child.stdin.on("error", () => undefined); // a command that does not read its stdin
      child.stdin.end(o.stdin ?? "");
    }),
};

const canChroot = process.getuid?.() === 0 && existsSync("/bin/busybox");

test(
  "guest unpacking, run for real in a chroot: symlinks to the engine machine's host share and '..' stay in the image's root",
  { skip: !canChroot && "needs root and a static /bin/busybox for chroot" },
  async () => {
    await sandbox(async ({ dir, outside }) => {
      // `outside` plays /var/lib/hangar/host/0 (the user's home, shared with the engine machine); `engine` is the engine machine's ROOT.
      const engine = path.join(dir, "engine");
      const up = "../".repeat(20).slice(0, -1);
      const layers = [
        await writeLayerFile(dir, "1.tar", [
          { name: `${outside.slice(1)}/`, type: "directory" },
          { name: "abs", type: "symlink", linkname: outside },
          { name: "rel", type: "symlink", linkname: up + outside },
          { name: "keep/", type: "directory" },
          { name: "keep/old", body: "old" },
          { name: "replaced", body: "base" },
        ]),
        await writeLayerFile(dir, "2.tar", [
          { name: `${outside.slice(1)}/same-layer`, body: "1" },
          { name: "abs/later", body: "2" },
          { name: "rel/later-rel", body: "3" },
          { name: "abs/.wh.victim", body: "" },
          { name: "rel/.wh..wh..opq", body: "" },
          { name: "rel/victim", body: "written inside" },
          { name: "keep/.wh.old", body: "" },
          { name: "h", type: "link", linkname: "abs/victim" },
        ]),
      ];
      const imageId = sha256("hostile");
      await unpackImage(localShell, { layerFiles: () => Promise.resolve(layers) }, imageId, engine);
      const rootfs = path.join(engine, "images", imageId.slice(7), "rootfs");
      const inside = path.join(rootfs, outside);
      assert.equal(await readFile(path.join(inside, "same-layer"), "utf8"), "1");
      assert.equal(await readFile(path.join(inside, "later"), "utf8"), "2");
      assert.equal(await readFile(path.join(inside, "later-rel"), "utf8"), "3");
      assert.equal(await readFile(path.join(inside, "victim"), "utf8"), "written inside");
      assert.equal(await readFile(path.join(rootfs, "h"), "utf8"), "written inside");
      assert.deepEqual(await listTree(path.join(rootfs, "keep")), [], "a plain whiteout still works");
      assert.ok(!(await listTree(rootfs)).some((p) => p.includes(".wh.") || p.includes(".hangar-unpack")), "no marker and no helper left in the image");
      assert.ok(existsSync(path.join(engine, "images", imageId.slice(7), "complete")));

      // An image on top of it (a build's next step) starts from a copy of that root and unpacks only its own layer,
      // its whiteouts included; the first image's root stays as it was.
      const next = await writeLayerFile(dir, "next.tar", [
        { name: "keep/.wh..wh..opq", body: "" },
        { name: "keep/new", body: "new" },
        { name: "added", body: "on top" },
        { name: "replaced", body: "next" },
      ]);
      const sent: string[] = [];
      const counting: UnpackShell = { run: (command, o) => (command.includes("tar -x") && sent.push(command), localShell.run(command, o)) };
      await unpackImage(counting, { layerFiles: () => Promise.resolve([...layers, next]) }, sha256("next"), engine);
      assert.equal(sent.length, 1, "only the new layer is unpacked");
      const nextRoot = path.join(engine, "images", sha256("next").slice(7), "rootfs");
      assert.equal(await readFile(path.join(nextRoot, "added"), "utf8"), "on top");
      assert.equal(await readFile(path.join(nextRoot, outside, "victim"), "utf8"), "written inside");
      assert.deepEqual(await listTree(path.join(nextRoot, "keep")), ["new"]);
      assert.ok((await lstat(path.join(nextRoot, "abs"))).isSymbolicLink(), "the copy keeps symlinks as symlinks");
      assert.ok(!existsSync(path.join(rootfs, "added")), "the base image's root is untouched");
      // The copy's files are hard links to the base's: a file the next layer replaces is a new file there, the base keeps its own.
      assert.equal(await readFile(path.join(nextRoot, "replaced"), "utf8"), "next");
      assert.equal(await readFile(path.join(rootfs, "replaced"), "utf8"), "base", "replacing a file in the copy leaves the base's file as it was");
      assert.ok(!(await listTree(nextRoot)).some((p) => p.includes(".hangar-unpack")), "no helper left in the copy");
      // The same layers again under another image ID (another config): a copy, nothing unpacked.
      sent.length = 0;
      await unpackImage(counting, { layerFiles: () => Promise.resolve([...layers, next]) }, sha256("next-retagged"), engine);
      assert.equal(sent.length, 0);
      assert.equal(await readFile(path.join(engine, "images", sha256("next-retagged").slice(7), "rootfs", "added"), "utf8"), "on top");

      // Through a symlink of the same layer: busybox tar creates absolute and ".." symlinks last (its own guard), so the
      // entry makes a real folder and the symlink then fails — a clean error where the host would write inside the root.
      const same = await writeLayerFile(dir, "same.tar", [
        { name: "s", type: "symlink", linkname: outside },
        { name: "s/same-layer", body: "x" },
      ]);
      await assert.rejects(unpackImage(localShell, { layerFiles: () => Promise.resolve([same]) }, sha256("same"), engine), /could not unpack layer same\.tar .*can't create symlink/);

      // A bad whiteout fails before the guest is asked to do anything with that layer.
      const bad = await writeLayerFile(dir, "3.tar", [{ name: "abs/.wh...", body: "" }]);
      await assert.rejects(unpackImage(localShell, { layerFiles: () => Promise.resolve([...layers, bad]) }, sha256("bad"), engine), isArchiveError(/whiteout naming/));
    });
  },
);
