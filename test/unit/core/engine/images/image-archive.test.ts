import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { ImageArchiveError, ImageStore } from "../../../../../src/core/engine/images/image-store";
// The default registry's domain is configuration (HANGAR_DEFAULT_REGISTRY); a reserved test domain stands in for it.
const DEFAULT_DOMAIN = "registry.test";
process.env.HANGAR_DEFAULT_REGISTRY = DEFAULT_DOMAIN;
import { collector, hex, makeTar, readTar, sha256, stream, withTempDir, writeLayerFile, type TarItem } from "./tar-fixtures";
import { dockerCreate, dockerHistory, dockerInspect, dockerList } from "./docker-shapes";

async function twoStores(fn: (a: ImageStore, b: ImageStore, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => fn(await ImageStore.open(path.join(dir, "a")), await ImageStore.open(path.join(dir, "b")), dir));
}

async function saved(store: ImageStore, refs: string[]): Promise<Buffer> {
  const out = collector();
  await store.save(refs, out.sink);
  return out.bytes();
}

/** An image config as a registry or `docker build` would write it (not the store's own bytes). */
function configFor(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: "386",
      os: "linux",
      created: "2023-03-04T05:06:07.123456789Z",
      config: { Cmd: ["/bin/sh"], Env: ["PATH=/bin"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: diffIds.map((_, i) => ({ created: "2023-03-04T05:06:07Z", created_by: `step ${i}` })),
      ...extra,
    }),
  );
}

test("save then load into a second store gives the same IDs, tags, RepoDigests and layers", async () => {
  await twoStores(async (a, b, dir) => {
    const l1 = await writeLayerFile(dir, "1.tar", [
      { name: "bin/", type: "directory" },
      { name: "bin/tool", body: "t", mode: 0o755 },
    ]);
    const l2 = await writeLayerFile(dir, "2.tar", [{ name: "etc/conf", body: "c" }]);
    const base = await dockerCreate(a, { config: { Cmd: ["sh"] }, layers: [{ tarPath: l1, createdBy: "ADD tool" }], tags: ["base:1"] });
    const app = await dockerCreate(a, {
      config: { Cmd: ["tool"] },
      parent: base.Id,
      layers: [
        { tarPath: l2, createdBy: "ADD conf" },
        { createdBy: "CMD tool", emptyLayer: true },
      ],
      tags: ["app:1", "app:2", "registry.example:5000/team/app:x"],
    });
    const loose = (await dockerCreate(a, { config: { Cmd: ["x"] }, layers: [], created: new Date(0) })).Id;

    const archive = await saved(a, ["app", "base:1", loose.slice(7, 15)]);
    const names = [...(await readTar(archive)).keys()];
    assert.deepEqual(
      names.filter((n) => !/^blobs\/sha256\/./.test(n)),
      ["blobs/", "blobs/sha256/", "index.json", "manifest.json", "oci-layout", "repositories"],
    );
    const files = await readTar(archive);
    const manifest = JSON.parse(String(files.get("manifest.json"))) as Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }>;
    assert.deepEqual(
      manifest.map((m) => m.RepoTags),
      [["app:1", "app:2"], ["base:1"], null],
      "a bare name saves that repository's tags; an ID saves no tag",
    );
    assert.equal(manifest[0].Config, `blobs/sha256/${hex(app.Id)}`);
    assert.deepEqual(
      manifest[0].Layers,
      app.RootFS.Layers.map((l) => `blobs/sha256/${hex(l)}`),
    );
    assert.deepEqual(JSON.parse(String(files.get("repositories"))), { app: { "1": hex(app.RootFS.Layers[1]), "2": hex(app.RootFS.Layers[1]) }, base: { "1": hex(base.RootFS.Layers[0]) } });
    const index = JSON.parse(String(files.get("index.json"))) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    assert.deepEqual(
      index.manifests.map((m) => m.annotations?.["io.containerd.image.name"] ?? null),
      [`${DEFAULT_DOMAIN}/library/app:1`, `${DEFAULT_DOMAIN}/library/app:2`, `${DEFAULT_DOMAIN}/library/base:1`, null],
    );
    assert.equal(index.manifests[0].annotations?.["org.opencontainers.image.ref.name"], "1");
    for (const [name, body] of files) if (name.startsWith("blobs/sha256/") && Buffer.isBuffer(body)) assert.equal(sha256(body), `sha256:${name.slice(13)}`, name);
    assert.deepEqual(await saved(a, ["app", "base:1", loose.slice(7, 15)]), archive, "saving is deterministic");

    assert.deepEqual(await b.load(stream(archive)), ["Loaded image: app:1", "Loaded image: app:2", "Loaded image: base:1", `Loaded image ID: ${loose}`]);
    for (const ref of ["app:1", "base:1", loose]) {
      const [x, y] = [await dockerInspect(a, ref), await dockerInspect(b, ref)];
      assert.equal(y.Id, x.Id, ref);
      assert.deepEqual(y.RootFS, x.RootFS, ref);
      assert.deepEqual(y.Config, x.Config, ref);
      assert.equal(y.Created, x.Created, ref);
    }
    assert.deepEqual(
      (await dockerInspect(b, "app:1")).RepoDigests,
      (await dockerInspect(a, "app:1")).RepoDigests.filter((d) => d.startsWith("app@")),
    );
    for (const [i, file] of (await b.layerFiles("app:1")).entries()) assert.deepEqual(await readFile(file), await readFile((await a.layerFiles("app:1"))[i]));
    assert.deepEqual(await b.load(stream(archive)), ["Loaded image: app:1", "Loaded image: app:2", "Loaded image: base:1", `Loaded image ID: ${loose}`], "loading again is harmless");

    // The loaded store saves the same archive back.
    assert.deepEqual(await saved(b, ["app", "base:1", loose]), archive);
  });
});

test("load reads a hand-made docker save archive (old layout: <id>.json, <v1id>/layer.tar, a symlinked layer, a gzip layer)", async () => {
  await twoStores(async (store) => {
    const layer1 = await makeTar([{ name: "hello", body: "hi" }]);
    const layer2 = await makeTar([{ name: "second", body: "2" }]);
    const config = configFor([sha256(layer1), sha256(layer2), sha256(layer1)]);
    const id = sha256(config);
    const archive = await makeTar([
      { name: "aaaa/", type: "directory" },
      { name: "aaaa/layer.tar", body: layer1 },
      { name: "bbbb/layer.tar", body: gzipSync(layer2) },
      { name: "cccc/layer.tar", type: "symlink", linkname: "../aaaa/layer.tar" },
      { name: `${hex(id)}.json`, body: config },
      { name: "manifest.json", body: JSON.stringify([{ Config: `${hex(id)}.json`, RepoTags: ["hand/made:v1", "library/other"], Layers: ["aaaa/layer.tar", "bbbb/layer.tar", "cccc/layer.tar"] }]) },
      { name: "repositories", body: JSON.stringify({ "hand/made": { v1: "aaaa" } }) },
    ]);
    assert.deepEqual(await store.load(stream(archive)), ["Loaded image: hand/made:v1", "Loaded image: other:latest"]);
    const inspect = await dockerInspect(store, "hand/made:v1");
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Created, "2023-03-04T05:06:07.123456789Z");
    assert.deepEqual(inspect.RootFS.Layers, [sha256(layer1), sha256(layer2), sha256(layer1)]);
    assert.deepEqual(await readFile((await store.layerFiles(id))[1]), layer2, "stored uncompressed");
    assert.equal((await dockerHistory(store, id)).length, 3);
  });
});

test("load reads an OCI image layout archive: gzip layers, nested index, ref-name annotations", async () => {
  await twoStores(async (store) => {
    const layer = await makeTar([{ name: "oci", body: "yes" }]);
    const gz = gzipSync(layer);
    const config = configFor([sha256(layer)]);
    const blob = (data: Buffer): TarItem => ({ name: `blobs/sha256/${hex(sha256(data))}`, body: data });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha256(gz), size: gz.length }],
      }),
    );
    const otherConfig = configFor([], { architecture: "arm64" });
    const otherManifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: "x", digest: sha256(otherConfig), size: otherConfig.length }, layers: [] }));
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(otherManifest), size: otherManifest.length, platform: { os: "linux", architecture: "arm64" } },
          { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length, platform: { os: "linux", architecture: "386" } },
        ],
      }),
    );
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          digest: sha256(nested),
          size: nested.length,
          annotations: { "io.containerd.image.name": `${DEFAULT_DOMAIN}/library/ocitest:1.0`, "org.opencontainers.image.ref.name": "1.0" },
        },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length, annotations: { "org.opencontainers.image.ref.name": "ocitest:2.0" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(manifest), size: manifest.length, annotations: { "org.opencontainers.image.ref.name": "bare-tag" } },
      ],
    };
    const archive = await makeTar([
      { name: "oci-layout", body: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
      { name: "index.json", body: JSON.stringify(index) },
      blob(gz),
      blob(config),
      blob(manifest),
      blob(otherManifest),
      blob(otherConfig),
      blob(nested),
    ]);
    assert.deepEqual(await store.load(stream(archive)), ["Loaded image: ocitest:1.0", "Loaded image: ocitest:2.0"]);
    const inspect = await dockerInspect(store, "ocitest:2.0");
    assert.equal(inspect.Id, sha256(config));
    assert.deepEqual(inspect.RepoTags, ["ocitest:1.0", "ocitest:2.0"]);
    assert.deepEqual(await readFile((await store.layerFiles("ocitest:1.0"))[0]), layer);
  });
});

test("hostile or broken archives are refused with ImageArchiveError and change nothing", async () => {
  await twoStores(async (store, _b, dir) => {
    const l = await writeLayerFile(dir, "keep.tar", [{ name: "keep", body: "k" }]);
    await dockerCreate(store, { config: {}, layers: [{ tarPath: l, createdBy: "keep" }], tags: ["keep"] });
    const good = await saved(store, ["keep"]);
    const goodFiles = await readTar(good);
    const goodManifest = JSON.parse(String(goodFiles.get("manifest.json"))) as Array<{ Config: string; Layers: string[] }>;

    const layer = await makeTar([{ name: "x", body: "x" }]);
    const config = configFor([sha256(layer)]);
    const dockerArchive = (items: TarItem[], manifest: unknown = [{ Config: `${hex(sha256(config))}.json`, RepoTags: ["evil:1"], Layers: ["l/layer.tar"] }]): Promise<Buffer> =>
      makeTar([
        { name: `${hex(sha256(config))}.json`, body: config },
        { name: "l/layer.tar", body: layer },
        ...items,
        { name: "manifest.json", body: typeof manifest === "string" ? manifest : JSON.stringify(manifest) },
      ]);
    const evilLayer = await makeTar([{ name: "../../etc/evil", body: "x" }]);
    const evilConfig = configFor([sha256(evilLayer)]);

    const cases: Array<[string, Buffer, RegExp]> = [
      ["a ../ entry", await dockerArchive([{ name: "../escape", body: "x" }]), /climbs out/],
      ["an absolute entry", await dockerArchive([{ name: "/etc/passwd", body: "x" }]), /absolute path/],
      [
        "a blob that does not match its digest",
        await makeTar([
          ...[...goodFiles]
            .filter(([n]) => n !== "manifest.json" && !n.endsWith("/"))
            .map(([name, body]) => ({ name, body: name === goodManifest[0].Layers[0] ? Buffer.from("tampered") : (body as Buffer) })),
          { name: "manifest.json", body: goodFiles.get("manifest.json") as Buffer },
        ]),
        /does not match its digest/,
      ],
      [
        "a layer that does not match its diff_id",
        await dockerArchive([], [{ Config: `${hex(sha256(config))}.json`, RepoTags: [], Layers: ["other.tar"] }]).then(async () =>
          makeTar([
            { name: "c.json", body: config },
            { name: "l.tar", body: await makeTar([{ name: "y", body: "y" }]) },
            { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: ["l.tar"] }]) },
          ]),
        ),
        /does not match the image config/,
      ],
      ["a manifest naming a missing file", await dockerArchive([], [{ Config: `${hex(sha256(config))}.json`, RepoTags: [], Layers: ["missing/layer.tar"] }]), /not in the archive/],
      ["malformed manifest.json", await dockerArchive([], "[{not json"), /not valid JSON/],
      ["a manifest.json of the wrong shape", await dockerArchive([], { Config: 1 }), /not a list/],
      [
        "a config that is not JSON",
        await makeTar([
          { name: "c.json", body: "nope" },
          { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", Layers: [] }]) },
        ]),
        /not valid JSON/,
      ],
      ["a layer count mismatch", await dockerArchive([], [{ Config: `${hex(sha256(config))}.json`, Layers: [] }]), /lists 0 layers/],
      [
        "a symlink out of the archive",
        await dockerArchive([{ name: "m/layer.tar", type: "symlink", linkname: "../../../etc/passwd" }], [{ Config: `${hex(sha256(config))}.json`, Layers: ["m/layer.tar"] }]),
        /climbs out/,
      ],
      [
        "a layer with ../ inside",
        await makeTar([
          { name: "c.json", body: evilConfig },
          { name: "l.tar", body: evilLayer },
          { name: "manifest.json", body: JSON.stringify([{ Config: "c.json", RepoTags: ["evil:2"], Layers: ["l.tar"] }]) },
        ]),
        /climbs out/,
      ],
      ["an invalid tag", await dockerArchive([], [{ Config: `${hex(sha256(config))}.json`, RepoTags: ["Not A Tag"], Layers: ["l/layer.tar"] }]), /not a valid tag/],
      ["a device entry", await dockerArchive([{ name: "dev", type: "character-device" }]), /character-device entry/],
      ["neither format", await makeTar([{ name: "readme", body: "hi" }]), /neither manifest.json/],
      [
        "an OCI descriptor with a wrong size",
        await makeTar([
          ...[...goodFiles].filter(([n]) => n !== "manifest.json" && n !== "index.json" && !n.endsWith("/")).map(([name, body]) => ({ name, body: body as Buffer })),
          { name: "index.json", body: String(goodFiles.get("index.json")).replace(/"size":(\d+)/, '"size":1$1') },
        ]),
        /descriptor says/,
      ],
      ["a truncated archive", good.subarray(0, Math.floor(good.length / 2)), /truncated|could not be read/],
      ["an archive cut at a member boundary", good.subarray(0, good.length - 1024), /truncated/],
      ["not a tar at all", Buffer.from("hello world, not a tar".repeat(50)), /could not be read|neither/],
    ];
    const listBefore = await dockerList(store);
    const blobsBefore = await readdir(path.join(store.root, "blobs", "sha256"));
    const stateBefore = await readFile(path.join(store.root, "repositories.json"), "utf8");
    for (const [what, archive, message] of cases) {
      if (process.env.DEBUG_CASES) console.log("case:", what);
      await assert.rejects(store.load(stream(archive)), (err: Error) => {
        assert.ok(err instanceof ImageArchiveError, `${what}: ${err.name}: ${err.message}`);
        assert.match(err.message, message, what);
        return true;
      });
      if (process.env.DEBUG_CASES) console.log("rejected:", what);
      assert.deepEqual(await dockerList(store), listBefore, what);
      assert.deepEqual(await readdir(path.join(store.root, "blobs", "sha256")), blobsBefore, `${what}: no new blob files`);
      assert.equal(await readFile(path.join(store.root, "repositories.json"), "utf8"), stateBefore, what);
      assert.deepEqual(await readdir(path.join(store.root, ".tmp")), [], `${what}: staging cleaned up`);
    }
    assert.deepEqual(await store.load(stream(good)), ["Loaded image: keep:latest"], "the good archive still loads");
  });
});

test("load moves a tag to the loaded image, as Docker says", async () => {
  await twoStores(async (a, b, dir) => {
    const l1 = await writeLayerFile(dir, "1.tar", [{ name: "one", body: "1" }]);
    const l2 = await writeLayerFile(dir, "2.tar", [{ name: "two", body: "2" }]);
    const old = await dockerCreate(b, { config: {}, layers: [{ tarPath: l1, createdBy: "one" }], tags: ["t"] });
    const fresh = await dockerCreate(a, { config: {}, layers: [{ tarPath: l2, createdBy: "two" }], tags: ["t"] });
    assert.deepEqual(await b.load(stream(await saved(a, ["t"]))), [`The image t:latest already exists, renaming the old one with ID ${old.Id} to empty string`, "Loaded image: t:latest"]);
    assert.equal((await dockerInspect(b, "t")).Id, fresh.Id);
    assert.deepEqual(
      (await dockerList(b, { dangling: true })).map((i) => i.Id),
      [old.Id],
    );
  });
});
