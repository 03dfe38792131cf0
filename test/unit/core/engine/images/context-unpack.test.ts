// A build context is unpacked with the layer unpacker's path rules but is not
// a layer: a `.wh.name` file in it is a file (Docker copies it), never the
// deletion of `name`; names that would whiteout ".", ".." or nothing are
// still refused, as everywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { applyLayer } from "../../../../../src/core/engine/images/layer-apply";

async function tarOf(entries: Array<{ name: string; body: string }>): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name }, e.body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

test("a context's .wh.name file is kept as a file and deletes nothing", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-context-"));
  try {
    await applyLayer(
      await tarOf([
        { name: "app.txt", body: "app" },
        { name: ".wh.app.txt", body: "marker" },
      ]),
      dir,
      { label: "The build context", whiteouts: false },
    );
    assert.deepEqual((await readdir(dir)).sort(), [".wh.app.txt", "app.txt"]);
    assert.equal(await readFile(path.join(dir, ".wh.app.txt"), "utf8"), "marker");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the same entries as a layer: the whiteout deletes the file", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-context-"));
  try {
    await applyLayer(
      await tarOf([
        { name: "app.txt", body: "app" },
        { name: ".wh.app.txt", body: "" },
      ]),
      dir,
    );
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a context entry named .wh... is refused, naming the context, and its folder's parent survives", async () => {
  const parent = await mkdtemp(path.join(os.tmpdir(), "hangar-context-"));
  const dir = path.join(parent, "ctx");
  try {
    await assert.rejects(
      applyLayer(await tarOf([{ name: "sub/.wh...", body: "" }]), dir, { label: "The build context", whiteouts: false }),
      /The build context holds an entry named "sub\/\.wh\.\.\."/,
    );
    assert.ok((await readdir(parent)).includes("ctx"));
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
