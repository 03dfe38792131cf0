import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { ImageConflictError, ImageNotFoundError, ImageStore, InvalidReferenceError, type CreateImageInput, type ImageDeleteItem } from "../../../../../src/core/engine/images/image-store";
// The default registry's domain is configuration (HANGAR_DEFAULT_REGISTRY); a reserved test domain stands in for it.
const DEFAULT_DOMAIN = "registry.test";
process.env.HANGAR_DEFAULT_REGISTRY = DEFAULT_DOMAIN;
import { sha256, withTempDir, writeLayerFile } from "./tar-fixtures";
import { dockerCreate, dockerHistory, dockerInspect, dockerList } from "./docker-shapes";

async function withStore(fn: (store: ImageStore, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => fn(await ImageStore.open(path.join(dir, "images")), dir));
}

/** An image with one layer holding `file` = `content`. */
async function simpleImage(store: ImageStore, dir: string, content: string, extra: Partial<CreateImageInput> = {}): Promise<string> {
  const layer = await writeLayerFile(dir, `layer-${sha256(content).slice(7, 19)}.tar`, [{ name: "file", body: content }]);
  const inspect = await dockerCreate(store, {
    config: { Cmd: ["sh"], Env: ["PATH=/bin"] },
    layers: [{ tarPath: layer, createdBy: `ADD ${content}` }],
    created: new Date("2024-05-06T07:08:09Z"),
    ...extra,
  });
  return inspect.Id;
}

test("create stores an image whose ID is the digest of its config blob, and inspect shows Docker's fields", async () => {
  await withStore(async (store, dir) => {
    const layer = await writeLayerFile(dir, "l.tar", [{ name: "hello", body: "world" }]);
    const created = await dockerCreate(store, {
      config: { Cmd: ["echo", "<&>"], Env: ["A=1"], Labels: { team: "x" } },
      layers: [
        { tarPath: layer, createdBy: "COPY hello /" },
        { createdBy: "CMD echo", emptyLayer: true, comment: "no layer" },
      ],
      tags: ["demo"],
      comment: "made in a test",
      created: new Date("2024-05-06T07:08:09.5Z"),
    });
    const blob = await readFile(path.join(store.root, "blobs", "sha256", created.Id.slice(7)));
    assert.equal(sha256(blob), created.Id);
    assert.match(blob.toString(), /\\u003c\\u0026\\u003e/, "Go's JSON escaping, as Docker hashes configs");
    const inspect = await dockerInspect(store, "demo");
    assert.deepEqual(inspect, created);
    assert.equal(inspect.Architecture, "386");
    assert.equal(inspect.Os, "linux");
    assert.equal(inspect.Created, "2024-05-06T07:08:09.5Z");
    assert.equal(inspect.Comment, "made in a test");
    assert.deepEqual(inspect.RepoTags, ["demo:latest"]);
    assert.equal(inspect.RepoDigests.length, 1);
    assert.match(inspect.RepoDigests[0], /^demo@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(inspect.RootFS, { Type: "layers", Layers: [sha256(await readFile(layer))] });
    assert.equal(inspect.Size, (await readFile(layer)).length);
    assert.deepEqual(inspect.Config, { Cmd: ["echo", "<&>"], Env: ["A=1"], Labels: { team: "x" } });
    assert.notEqual(inspect.Metadata.LastTagTime, "0001-01-01T00:00:00Z");
    assert.deepEqual(await store.layerFiles("demo:latest"), [path.join(store.root, "blobs", "sha256", inspect.RootFS.Layers[0].slice(7))]);

    // The same input again is the same image.
    const again = await dockerCreate(store, {
      config: { Cmd: ["echo", "<&>"], Env: ["A=1"], Labels: { team: "x" } },
      layers: [
        { tarPath: layer, createdBy: "COPY hello /" },
        { createdBy: "CMD echo", emptyLayer: true, comment: "no layer" },
      ],
      comment: "made in a test",
      created: new Date("2024-05-06T07:08:09.5Z"),
    });
    assert.equal(again.Id, created.Id);
  });
});

test("references resolve as Docker's: normalised names, full IDs, unique prefixes, name@digest", async () => {
  await withStore(async (store, dir) => {
    const id = await simpleImage(store, dir, "a", { tags: ["busybox:1.36", "me/app"] });
    for (const ref of [
      "busybox:1.36",
      `${DEFAULT_DOMAIN}/library/busybox:1.36`,
      "library/busybox:1.36",
      "me/app",
      `${DEFAULT_DOMAIN}/me/app:latest`,
      id,
      id.slice(7),
      id.slice(7, 12),
      id.slice(0, 12),
      id.slice(7, 8),
    ]) {
      assert.equal((await dockerInspect(store, ref)).Id, id, ref);
    }
    const digest = (await dockerInspect(store, id)).RepoDigests.find((d) => d.startsWith("busybox@"));
    assert.ok(digest);
    assert.equal((await dockerInspect(store, digest)).Id, id);
    await assert.rejects(dockerInspect(store, "busybox"), (err: Error) => err instanceof ImageNotFoundError && err.message === "No such image: busybox:latest");
    await assert.rejects(dockerInspect(store, `sha256:${"0".repeat(64)}`), ImageNotFoundError);
    await assert.rejects(dockerInspect(store, "me/app@sha256:" + "1".repeat(64)), ImageNotFoundError);
    await assert.rejects(dockerInspect(store, "Bad:Name"), InvalidReferenceError);
  });
});

test("an ambiguous ID prefix is a conflict", async () => {
  await withStore(async (store, dir) => {
    const ids: string[] = [];
    for (let i = 0; ids.length < 20; i++) ids.push(await simpleImage(store, dir, `p${i}`));
    // 20 IDs: two of them share a first hex digit (pigeonhole over 16 digits).
    const first = ids.map((id) => id[7]);
    const shared = first.find((c, i) => first.indexOf(c) !== i) as string;
    await assert.rejects(dockerInspect(store, shared), (err: Error) => err instanceof ImageConflictError && /multiple IDs found with provided prefix/.test(err.message));
  });
});

test("tag validates like Docker and moves a tag from the image that had it", async () => {
  await withStore(async (store, dir) => {
    const a = await simpleImage(store, dir, "a", { tags: ["app:1"] });
    const b = await simpleImage(store, dir, "b");
    await store.tag(b, "app", "1");
    await store.tag(b, "app:2");
    await store.tag(b, `${DEFAULT_DOMAIN}/library/other`);
    assert.deepEqual((await dockerInspect(store, b)).RepoTags, ["app:1", "app:2", "other:latest"]);
    assert.deepEqual((await dockerInspect(store, a)).RepoTags, []);
    for (const [repo, tag] of [
      ["UPPER", undefined],
      ["app", "bad tag"],
      ["app", "-x"],
      ["a@sha256:" + "0".repeat(64), undefined],
      ["a//b", undefined],
    ] as const) {
      await assert.rejects(store.tag(b, repo, tag), InvalidReferenceError, `${repo} ${tag}`);
    }
    await assert.rejects(store.tag("nothing", "x"), ImageNotFoundError);
  });
});

test("remove: one of two tags only untags; the last tag deletes the image and its layers", async () => {
  await withStore(async (store, dir) => {
    const id = await simpleImage(store, dir, "a", { tags: ["x:1", "x:2"] });
    const layer = (await dockerInspect(store, id)).RootFS.Layers[0];
    assert.deepEqual(await store.remove("x:1"), [{ Untagged: "x:1" }]);
    assert.deepEqual((await dockerInspect(store, id)).RepoTags, ["x:2"]);
    const manifestDigest = (await dockerInspect(store, id)).RepoDigests[0].split("@")[1];
    assert.deepEqual(await store.remove("x:2"), [{ Untagged: "x:2" }, { Untagged: `x@${manifestDigest}` }, { Deleted: id }, { Deleted: layer }]);
    await assert.rejects(dockerInspect(store, id), ImageNotFoundError);
    assert.deepEqual(await readdir(path.join(store.root, "blobs", "sha256")), [], "every blob went with the image");
    await assert.rejects(store.remove("x:2"), ImageNotFoundError);
  });
});

test("remove by ID: several tags need force; a container's image needs force and is then only untagged", async () => {
  await withStore(async (store, dir) => {
    const id = await simpleImage(store, dir, "a", { tags: ["x:1", "y:1"] });
    await assert.rejects(store.remove(id.slice(7, 19)), (err: Error) => err instanceof ImageConflictError && /must be forced\) - image is referenced in multiple repositories/.test(err.message));
    assert.equal((await dockerList(store)).length, 1, "a refused removal changes nothing");
    const forced = await store.remove(id, { force: true });
    assert.deepEqual(forced.filter((r) => "Untagged" in r).length, 4, "both tags and both repository digests");
    assert.deepEqual(forced.filter((r) => "Deleted" in r)[0], { Deleted: id });

    const used = await simpleImage(store, dir, "b", { tags: ["used"] });
    const inUse = (i: string): string | false => i === used && "c0ffee0123456789";
    await assert.rejects(store.remove("used", { inUse }), /unable to remove repository reference "used" \(must force\) - container c0ffee012345 is using its referenced image/);
    await assert.rejects(store.remove(used, { inUse }), /must be forced\) - image is being used by stopped container c0ffee012345/);
    await assert.rejects(store.remove(used, { force: true, inUse: () => ({ container: "abc", running: true }) }), /cannot be forced\) - image is being used by running container abc/);
    assert.deepEqual(await store.remove("used", { force: true, inUse }), [{ Untagged: "used:latest" }, { Untagged: `used@${await readIndexDigest(store, used)}` }]);
    assert.equal((await dockerInspect(store, used)).Id, used, "kept, untagged, for the container");
  });
});

test("children: parents are hidden unless all, protected while children live, pruned with them", async () => {
  await withStore(async (store, dir) => {
    const base = await simpleImage(store, dir, "base", { tags: ["base"] });
    const layer = await writeLayerFile(dir, "child.tar", [{ name: "more", body: "m" }]);
    const child = (await dockerCreate(store, { config: { Cmd: ["sh"] }, parent: "base", layers: [{ tarPath: layer, createdBy: "RUN more" }], tags: ["child"] })).Id;
    const inspect = await dockerInspect(store, child);
    assert.equal(inspect.Parent, base);
    assert.equal(inspect.RootFS.Layers.length, 2);
    assert.deepEqual(
      (await dockerHistory(store, "child")).map((h) => [h.Id, h.CreatedBy, h.Tags]),
      [
        [child, "RUN more", ["child:latest"]],
        [base, "ADD base", ["base:latest"]],
      ],
    );
    await assert.rejects(store.remove(base), /cannot be forced\) - image has dependent child images/);
    assert.deepEqual(await store.remove("base"), [{ Untagged: "base:latest" }, { Untagged: `base@${await readIndexDigest(store, base)}` }], "untagged only: the child keeps it");
    assert.deepEqual(
      (await dockerList(store)).map((i) => i.Id),
      [child],
      "the untagged parent is an intermediate image: hidden",
    );
    assert.deepEqual((await dockerList(store, { all: true })).map((i) => i.Id).sort(), [base, child].sort());
    assert.deepEqual(await dockerList(store, { dangling: true }), []);
    const removed = await store.remove("child");
    const deleted = removed.flatMap((r) => ("Deleted" in r ? [r.Deleted] : []));
    assert.equal(deleted[0], child);
    assert.ok(deleted.includes(base), "removing the child pruned the untagged parent");
    assert.deepEqual(await dockerList(store, { all: true }), []);
  });
});

/** The manifest digest of an image, from the store's repositories.json. */
async function readIndexDigest(store: ImageStore, id: string): Promise<string> {
  const state = JSON.parse(await readFile(path.join(store.root, "repositories.json"), "utf8")) as { images: Record<string, { manifest: { digest: string } }> };
  return state.images[id].manifest.digest;
}

test("list: filters dangling and reference as Docker's, newest first", async () => {
  await withStore(async (store, dir) => {
    const old = await simpleImage(store, dir, "old", { tags: ["web:1", "web:2", "db:1"], created: new Date("2020-01-01T00:00:00Z") });
    const dangling = await simpleImage(store, dir, "dangling", { created: new Date("2021-01-01T00:00:00Z") });
    const fresh = await simpleImage(store, dir, "fresh", { tags: ["me/tool:dev"], created: new Date("2022-01-01T00:00:00Z"), config: { Labels: { a: "b" } } });
    const all = await dockerList(store);
    assert.deepEqual(
      all.map((i) => i.Id),
      [fresh, dangling, old],
    );
    assert.deepEqual(all[0], {
      Id: fresh,
      ParentId: "",
      RepoTags: ["me/tool:dev"],
      RepoDigests: [`me/tool@${await readIndexDigest(store, fresh)}`],
      Created: Date.parse("2022-01-01T00:00:00Z") / 1000,
      Size: all[0].Size,
      SharedSize: -1,
      VirtualSize: all[0].Size,
      Labels: { a: "b" },
      Containers: -1,
    });
    assert.deepEqual(
      (await dockerList(store, { dangling: true })).map((i) => i.Id),
      [dangling],
    );
    assert.deepEqual(
      (await dockerList(store, { dangling: false })).map((i) => i.Id),
      [fresh, old],
    );
    const web = await dockerList(store, { reference: "web" });
    assert.deepEqual(
      web.map((i) => i.RepoTags),
      [["web:1", "web:2"]],
      "RepoTags lists only matching tags",
    );
    assert.deepEqual(
      (await dockerList(store, { reference: "*:1" })).map((i) => i.RepoTags),
      [["db:1", "web:1"]],
    );
    assert.deepEqual(
      (await dockerList(store, { reference: "me/*" })).map((i) => i.Id),
      [fresh],
    );
    assert.deepEqual(await dockerList(store, { reference: "*" }).then((l) => l.map((i) => i.Id)), [old], "* does not cross /");
  });
});

test("prune removes dangling images; with all, every image no container uses", async () => {
  await withStore(async (store, dir) => {
    const kept = await simpleImage(store, dir, "kept", { tags: ["kept"] });
    const used = await simpleImage(store, dir, "used", { tags: ["used"] });
    const dangling = await simpleImage(store, dir, "dangling");
    const before = await store.diskUsage();
    const pruned = await store.prune();
    assert.deepEqual(pruned.ImagesDeleted.filter((r) => "Deleted" in r)[0], { Deleted: dangling });
    assert.ok(pruned.SpaceReclaimed > 0);
    assert.equal((await store.diskUsage()).layersSize, before.layersSize - pruned.SpaceReclaimed);
    assert.deepEqual((await dockerList(store)).map((i) => i.Id).sort(), [kept, used].sort());
    const all = await store.prune({ all: true, inUse: (id) => id === used });
    assert.deepEqual(all.ImagesDeleted.filter((r): r is { Untagged: string } => "Untagged" in r).map((r) => r.Untagged)[0], "kept:latest");
    assert.deepEqual(
      (await dockerList(store)).map((i) => i.Id),
      [used],
    );
    assert.deepEqual((await store.prune({ all: true })).ImagesDeleted.length > 0, true);
    assert.deepEqual(await store.diskUsage(), { images: 0, layersSize: 0 });
  });
});

test("concurrent operations keep index.json and repositories.json whole and consistent", async () => {
  await withStore(async (store, dir) => {
    const id = await simpleImage(store, dir, "base", { tags: ["base"] });
    const other = await ImageStore.open(store.root); // a second instance on the same root shares the lock
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) work.push((i % 2 ? store : other).tag(id, `t${i}`));
    for (let i = 0; i < 5; i++) work.push(simpleImage(i % 2 ? store : other, dir, `c${i}`, { tags: [`c${i}`] }));
    for (let i = 0; i < 10; i++) work.push(dockerList(store));
    await Promise.all(work);
    await Promise.all([0, 2, 4].map((i) => other.remove(`t${i}`)));
    const index = JSON.parse(await readFile(path.join(store.root, "index.json"), "utf8")) as { manifests: Array<{ annotations?: Record<string, string> }> };
    const names = index.manifests.map((m) => m.annotations?.["io.containerd.image.name"]).filter(Boolean);
    assert.equal(names.length, 1 + 27 + 5);
    assert.ok(names.includes(`${DEFAULT_DOMAIN}/library/t1:latest`));
    assert.ok(!names.includes(`${DEFAULT_DOMAIN}/library/t2:latest`));
    assert.equal((await dockerInspect(store, id)).RepoTags.length, 1 + 27);
    assert.equal((await dockerList(store)).length, 6);
    const leftovers = await readdir(store.root);
    assert.deepEqual(
      leftovers.filter((n) => n.endsWith(".tmp") && n !== ".tmp"),
      [],
      "no temporary files left beside the metadata",
    );
    assert.deepEqual(await readdir(path.join(store.root, ".tmp")), [], "no staging left");
  });
});

test("a damaged repositories.json is reported, not silently replaced", async () => {
  await withStore(async (store) => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(store.root, "repositories.json"), "{oops");
    await assert.rejects(dockerList(store), /damaged/);
  });
});

test("remove records are Docker's shapes", async () => {
  await withStore(async (store, dir) => {
    await simpleImage(store, dir, "z", { tags: ["z"] });
    const records: ImageDeleteItem[] = await store.remove("z");
    for (const r of records) assert.equal(Object.keys(r).length, 1);
  });
});
