import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { applyLayer, checkLayerTar } from "../../../../../src/core/engine/images/layer-apply";
import { ImageArchiveError } from "../../../../../src/core/engine/images/image-errors";
import { listTree, makeTar, stream, withTempDir, type TarItem } from "./tar-fixtures";

/**
 * Each test unpacks into <tmp>/root with a sibling <tmp>/outside holding a
 * victim file, so "nothing escaped" is checked by listing both.
 */
async function sandbox(fn: (root: string, outside: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const root = path.join(dir, "root");
    const outside = path.join(dir, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, "victim"), "original");
    await fn(root, outside);
    assert.deepEqual(await listTree(dir).then((t) => t.filter((p) => !p.startsWith("root/"))), ["outside/", "outside/victim"], "nothing appeared outside the root");
    assert.equal(await readFile(path.join(outside, "victim"), "utf8"), "original", "the file outside is untouched");
  });
}

async function apply(items: TarItem[], root: string): Promise<{ files: number; bytes: number }> {
  return applyLayer(stream(await makeTar(items)), root);
}

test("files, folders, symlinks, hard links and modes are unpacked as the layer says", async () => {
  await sandbox(async (root) => {
    const result = await apply(
      [
        { name: "etc/", type: "directory" },
        { name: "etc/hostname", body: "box\n" },
        { name: "/usr/bin/tool", body: "#!/bin/sh\n", mode: 0o4755 },
        { name: "./usr/bin/alias", type: "symlink", linkname: "tool" },
        { name: "usr/bin/hard", type: "link", linkname: "/usr/bin/tool" },
        { name: "ro/", type: "directory", mode: 0o555 },
        { name: "ro/inside", body: "x" },
        { name: "dev/null", type: "character-device" },
      ],
      root,
    );
    assert.deepEqual(await listTree(root), ["etc/", "etc/hostname", "ro/", "ro/inside", "usr/", "usr/bin/", "usr/bin/alias", "usr/bin/hard", "usr/bin/tool"]);
    assert.equal(await readFile(path.join(root, "etc/hostname"), "utf8"), "box\n");
    assert.equal((await stat(path.join(root, "usr/bin/tool"))).mode & 0o7777, 0o4755);
    assert.equal(await readlink(path.join(root, "usr/bin/alias")), "tool");
    assert.equal((await stat(path.join(root, "usr/bin/hard"))).ino, (await stat(path.join(root, "usr/bin/tool"))).ino);
    assert.equal((await stat(path.join(root, "ro"))).mode & 0o777, 0o555, "a read-only folder still got its file, and its mode last");
    assert.equal((await stat(path.join(root, "etc/hostname"))).mtime.toISOString(), "2024-01-02T03:04:05.000Z");
    assert.equal(result.bytes, 4 + 10 + 1);
    assert.equal(result.files, 7, "the device node is skipped");
  });
});

test("whiteouts delete lower entries and opaque folders hide lower contents but keep this layer's", async () => {
  await sandbox(async (root) => {
    await apply(
      [
        { name: "a/old1", body: "1" },
        { name: "a/sub/old2", body: "2" },
        { name: "b/gone", body: "3" },
        { name: "b/stays", body: "4" },
        { name: "c/", type: "directory" },
      ],
      root,
    );
    await apply([{ name: "a/", type: "directory" }, { name: "a/.wh..wh..opq" }, { name: "a/new", body: "n" }, { name: "b/.wh.gone" }, { name: ".wh.c" }, { name: "b/.wh..wh.plnk" }], root);
    assert.deepEqual(await listTree(root), ["a/", "a/new", "b/", "b/stays"]);
  });
});

test("a later entry replaces a symlink instead of writing through it", async () => {
  await sandbox(async (root, outside) => {
    const rel = path.relative(root, path.join(outside, "victim"));
    await apply([{ name: "f", type: "symlink", linkname: rel }], root);
    await apply([{ name: "f", body: "mine" }], root);
    assert.equal((await lstat(path.join(root, "f"))).isFile(), true);
    assert.equal(await readFile(path.join(root, "f"), "utf8"), "mine");
  });
});

test("hostile: ../../etc/evil is refused", async () => {
  await sandbox(async (root) => {
    await assert.rejects(apply([{ name: "../../outside/evil", body: "x" }], root), ImageArchiveError);
    await assert.rejects(apply([{ name: "a/../../outside/evil", body: "x" }], root), ImageArchiveError);
    await assert.rejects(apply([{ name: "a/.wh...", body: "" }, { name: "../.wh.outside" }], root), ImageArchiveError);
  });
});

test("hostile: writes through a symlink to / land inside the root", async () => {
  await sandbox(async (root) => {
    await apply(
      [
        { name: "link", type: "symlink", linkname: "/" },
        { name: "link/etc/evil", body: "x" },
        { name: "link/outside/victim", body: "x" },
      ],
      root,
    );
    assert.equal(await readFile(path.join(root, "etc/evil"), "utf8"), "x");
    assert.equal(await readFile(path.join(root, "outside/victim"), "utf8"), "x");
  });
});

test("hostile: writes through a symlink to ../../.. stop at the root", async () => {
  await sandbox(async (root) => {
    await apply(
      [
        { name: "deep/", type: "directory" },
        { name: "deep/up", type: "symlink", linkname: "../../../../.." },
        { name: "deep/up/outside/victim", body: "overwritten?" },
        { name: "deep/up/evil", body: "x" },
        { name: "deep/up/.wh.outside" },
      ],
      root,
    );
    assert.equal(await readFile(path.join(root, "evil"), "utf8"), "x");
    assert.deepEqual(await listTree(root), ["deep/", "deep/up", "evil"], "the whiteout removed the in-root outside/, not the real one");
  });
});

test("hostile: hard links to outside the root are refused", async () => {
  await sandbox(async (root, outside) => {
    await assert.rejects(apply([{ name: "h", type: "link", linkname: "../outside/victim" }], root), ImageArchiveError);
    await assert.rejects(apply([{ name: "h", type: "link", linkname: path.join(outside, "victim") }], root), ImageArchiveError, "absolute targets are inside the root, where there is no such file");
    // Through a symlink to outside: the link is to the symlink itself, never to its target.
    await apply(
      [
        { name: "s", type: "symlink", linkname: path.join(outside, "victim") },
        { name: "h", type: "link", linkname: "s" },
      ],
      root,
    );
    assert.equal((await lstat(path.join(root, "h"))).isSymbolicLink(), true);
  });
});

test("checkLayerTar finds an escaping name without unpacking", async () => {
  await assert.rejects(
    checkLayerTar(
      stream(
        await makeTar([
          { name: "ok", body: "x" },
          { name: "../x", body: "y" },
        ]),
      ),
      "layer",
    ),
    /climbs out/,
  );
  assert.deepEqual(await checkLayerTar(stream(await makeTar([{ name: "/abs/ok", body: "xy" }])), "layer"), { files: 1, bytes: 2 });
});

test("not running as root, read-only folders of a lower layer still take files and whiteouts, and keep their modes", async () => {
  // As root every folder is writable, so the unprivileged path runs in a child process as nobody.
  await withTempDir(async (dir) => {
    const layer1 = path.join(dir, "1.tar");
    const layer2 = path.join(dir, "2.tar");
    await writeFile(
      layer1,
      await makeTar([
        { name: "ro/", type: "directory", mode: 0o555 },
        { name: "ro/a", body: "a" },
        { name: "ro/sub/", type: "directory", mode: 0o555 },
        { name: "ro/sub/x", body: "x", mode: 0o444 },
      ]),
    );
    await writeFile(layer2, await makeTar([{ name: "ro/b", body: "b" }, { name: "ro/.wh.a" }, { name: "ro/.wh.sub" }]));
    // The code under test is bundled into the temp folder (nobody may not be able to read the checkout: a clone under /root or any 0700 folder).
    const bundle = path.join(dir, "layer-apply.cjs");
    const { build } = await import("esbuild");
    await build({
      entryPoints: [path.resolve(__dirname, "../../../../../src/core/engine/images/layer-apply.ts")],
      outfile: bundle,
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      logLevel: "error",
    });
    const script = path.join(dir, "apply.mjs");
    await writeFile(
      script,
      `import { applyLayer } from "./layer-apply.cjs";\nconst root = process.argv[2];\nawait applyLayer(${JSON.stringify(layer1)}, root);\nawait applyLayer(${JSON.stringify(layer2)}, root);\nconsole.log("done");\n`,
    );
    const root = path.join(dir, "root");
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chownTree(dir, 65534);
    const { execFile } = await import("node:child_process");
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [script, root], { cwd: dir, ...(asRoot ? { uid: 65534, gid: 65534 } : {}), timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.match(output, /done/);
    assert.deepEqual(await listTree(root), ["ro/", "ro/b"]);
    assert.equal((await stat(path.join(root, "ro"))).mode & 0o777, 0o555);
  });
});

async function chownTree(p: string, uid: number): Promise<void> {
  const { chown, readdir } = await import("node:fs/promises");
  await chown(p, uid, uid);
  if ((await lstat(p)).isDirectory()) for (const name of await readdir(p)) await chownTree(path.join(p, name), uid);
}
