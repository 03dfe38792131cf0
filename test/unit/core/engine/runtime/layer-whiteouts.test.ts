// A container's overlay upper folder as a Docker layer: overlay's 0/0
// character devices become .wh. entries, opaque folders get .wh..wh..opq.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar-stream";
import { overlayToLayer } from "../../../../../src/core/engine/runtime/layer-whiteouts";

async function upperTar(entries: Array<Parameters<tar.Pack["entry"]>[0]>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on("end", () => resolve()));
  for (const e of entries) pack.entry(e, e.type === "file" ? "x" : Buffer.alloc(0));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function names(file: string): Promise<string[]> {
  const extract = tar.extract();
  const out: string[] = [];
  extract.on("entry", (h, stream, next) => {
    out.push(h.name);
    stream.resume();
    stream.on("end", next);
  });
  await new Promise<void>((resolve, reject) =>
    createReadStream(file)
      .pipe(extract)
      .on("finish", () => resolve())
      .on("error", reject),
  );
  return out;
}

/** The entry names of the layer overlayToLayer makes of an upper folder holding `entries`. */
async function layerOf(entries: Array<Parameters<tar.Pack["entry"]>[0]>, opaque: string[], excluded: string[] = []): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-whiteouts-"));
  try {
    const file = path.join(dir, "layer.tar");
    await overlayToLayer(await upperTar([{ name: "./", type: "directory" }, ...entries]), file, opaque, excluded);
    return await names(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("whiteout devices become .wh. entries; each opaque folder gets .wh..wh..opq after its own entry", async () => {
  const layer = await layerOf(
    [
      { name: "./d/", type: "directory" },
      { name: "./d/new", type: "file", size: 1 },
      { name: "./d/sub/", type: "directory" },
      { name: "./e/", type: "directory" },
      { name: "./e/gone", type: "character-device", devmajor: 0, devminor: 0 },
    ],
    ["d", "d/sub"],
  );
  assert.deepEqual(layer, ["d/", "d/.wh..wh..opq", "d/new", "d/sub/", "d/sub/.wh..wh..opq", "e/", "e/.wh.gone"]);
});

test("what a RUN step changed inside the image's volumes is left out of its layer (the volume folder itself stays)", async () => {
  const layer = await layerOf(
    [
      { name: "./data/", type: "directory" },
      { name: "./data/new", type: "file", size: 1 },
      { name: "./data/old", type: "character-device", devmajor: 0, devminor: 0 },
      { name: "./database", type: "file", size: 1 },
    ],
    ["data"],
    ["/data/"],
  );
  assert.deepEqual(layer, ["data/", "database"]);
});
