import assert from "node:assert/strict";
import { test } from "node:test";
import { ImageConflictError, ImageNotFoundError } from "../../../../../src/core/engine/images/image-errors";
import {
  describeImage,
  historySteps,
  normalizeState,
  parseState,
  pruneImages,
  removeImage,
  renderIndex,
  resolveImage,
  saveSelection,
  selectImages,
  sharedSizes,
  tagImage,
  unusedBlobs,
  type ImageRecord,
  type StoreState,
} from "../../../../../src/core/engine/images/image-state";
import type { ImageConfigFile } from "../../../../../src/core/engine/images/image-config";

// Pure functions over a hand-made state: no disk, no blobs.
const id = (c: string): string => `sha256:${c.repeat(64)}`;
const [BASE, APP, LOOSE] = [id("a"), id("b"), id("c")];
const [L1, L2, L3] = [id("1"), id("2"), id("3")];

function record(manifest: string, layers: string[], parent?: string): ImageRecord {
  return {
    manifest: { digest: id(manifest), size: 100 },
    config: { size: 10 },
    layers: layers.map((digest) => ({ digest, size: 1000 })),
    platform: { architecture: "386", os: "linux" },
    stored: "2024-01-01T00:00:00Z",
    ...(parent ? { parent } : {}),
  };
}

/** base (tagged base:1) ← app (app:1, app:2, registry.example:5000/team/app:x), and a loose untagged image. */
function state(): StoreState {
  return {
    format: 1,
    images: { [BASE]: record("d", [L1]), [APP]: record("e", [L1, L2], BASE), [LOOSE]: record("f", [L3]) },
    tags: { "base:1": BASE, "app:1": APP, "app:2": APP, "registry.example:5000/team/app:x": APP },
  };
}

test("resolveImage: full ID, name:tag (latest by default), name@digest, unique ID prefix; errors as Docker's", () => {
  const s = state();
  assert.equal(resolveImage(s, APP).id, APP);
  assert.equal(resolveImage(s, APP.slice(7)).id, APP, "without sha256:");
  assert.deepEqual(resolveImage(s, "app:2"), { id: APP, record: s.images[APP], tag: "app:2" });
  assert.equal(resolveImage(s, "library/base:1").tag, "base:1", "normalised to the familiar form");
  assert.equal(resolveImage(s, `app@${id("e")}`).id, APP);
  assert.equal(resolveImage(s, "ccc").id, LOOSE);
  assert.throws(
    () => resolveImage(s, "app"),
    (e: Error) => e instanceof ImageNotFoundError && e.message === "No such image: app:latest",
  );
  assert.throws(() => resolveImage(s, `base@${id("e")}`), ImageNotFoundError, "a digest counts only in a repository the image is tagged in");
  assert.throws(() => resolveImage(s, id("9")), ImageNotFoundError);
  s.images[id("a").replace(/a$/, "0")] = record("g", []);
  assert.throws(
    () => resolveImage(s, "aaaa"),
    (e: Error) => e instanceof ImageConflictError && /multiple IDs found with provided prefix: aaaa/.test(e.message),
  );
});

test("selectImages: intermediate images hidden unless all; dangling and reference filters narrow images and tags", () => {
  const s = state();
  delete s.tags["base:1"];
  assert.deepEqual(
    selectImages(s)
      .map((i) => i.id)
      .sort(),
    [APP, LOOSE].sort(),
    "untagged base has a child: intermediate",
  );
  assert.deepEqual(
    selectImages(s, { all: true })
      .map((i) => i.id)
      .sort(),
    [BASE, APP, LOOSE].sort(),
  );
  assert.deepEqual(
    selectImages(s, { dangling: true }).map((i) => i.id),
    [LOOSE],
  );
  assert.deepEqual(
    selectImages(s, { dangling: false }).map((i) => i.id),
    [APP],
  );
  assert.deepEqual(selectImages(s, { reference: "app:1" }), [{ id: APP, tags: ["app:1"] }]);
  assert.deepEqual(selectImages(s, { reference: ["*:2", "registry.example:5000/team/*"] }), [{ id: APP, tags: ["app:2", "registry.example:5000/team/app:x"] }]);
});

test("describeImage, sharedSizes: tags in Docker's order, one RepoDigest per repository, sizes of layers", () => {
  const s = state();
  const config: ImageConfigFile = { rootfs: { type: "layers", diff_ids: [L1, L2] } };
  const image = describeImage(s, APP, config);
  assert.deepEqual(image.tags, ["app:1", "app:2", "registry.example:5000/team/app:x"]);
  assert.deepEqual(image.repoDigests, [`app@${id("e")}`, `registry.example:5000/team/app@${id("e")}`]);
  assert.equal(image.size, 2000);
  assert.equal(image.parent, BASE);
  assert.equal(image.config, config);
  assert.deepEqual(Object.fromEntries(sharedSizes(s)), { [BASE]: 1000, [APP]: 1000, [LOOSE]: 0 });
});

test("historySteps: newest first, empty layers sized 0, local ancestors named while the chain lasts", () => {
  const s = state();
  const config: ImageConfigFile = {
    rootfs: { type: "layers", diff_ids: [L1, L2] },
    history: [{ created_by: "ADD base", created: "2024-01-01T00:00:00Z" }, { created_by: "ADD app" }, { created_by: "CMD app", empty_layer: true, comment: "c" }],
  };
  const steps = historySteps(s, resolveImage(s, "app:1"), config);
  assert.deepEqual(
    steps.map((h) => [h.createdBy, h.size, h.comment, h.image?.id]),
    [
      ["CMD app", 0, "c", APP],
      ["ADD app", 1000, "", BASE],
      ["ADD base", 1000, "", undefined],
    ],
  );
  assert.deepEqual(steps[1].image?.tags, ["base:1"]);
});

test("tagImage moves a tag; saveSelection takes a bare name's tags, a tag, or an ID without tags", () => {
  const s = state();
  tagImage(s, "base:1", "app:2", "2024-02-02T00:00:00Z");
  assert.equal(s.tags["app:2"], BASE);
  assert.equal(s.images[BASE].lastTagTime, "2024-02-02T00:00:00Z");
  assert.deepEqual(
    [...saveSelection(s, ["app", "base:1", LOOSE.slice(7, 15)])],
    [
      [APP, ["app:1"]],
      [BASE, ["app:2", "base:1"]],
      [LOOSE, []],
    ],
  );
  assert.throws(() => saveSelection(s, ["missing"]), ImageNotFoundError);
});

test("removeImage: a tag goes first, the image with its last tag, untagged parents after it; blobs doomed", () => {
  const s = state();
  const doomed = new Set<string>();
  assert.deepEqual(removeImage(s, "app:1", {}, doomed), [{ Untagged: "app:1" }]);
  assert.deepEqual(removeImage(s, "registry.example:5000/team/app:x", {}, doomed), [{ Untagged: "registry.example:5000/team/app:x" }, { Untagged: `registry.example:5000/team/app@${id("e")}` }]);
  delete s.tags["base:1"];
  const records = removeImage(s, "app:2", {}, doomed);
  assert.deepEqual(records.slice(0, 5), [{ Untagged: "app:2" }, { Untagged: `app@${id("e")}` }, { Deleted: APP }, { Deleted: L2 }, { Deleted: BASE }]);
  assert.deepEqual(Object.keys(s.images), [LOOSE]);
  assert.deepEqual(unusedBlobs(s, doomed).sort(), [APP, BASE, L1, L2, id("d"), id("e")].sort());
});

test("removeImage refuses as Docker does and then changes nothing", () => {
  const s = state();
  const before = structuredClone(s);
  const doomed = new Set<string>();
  assert.throws(() => removeImage(s, BASE, {}, doomed), /unable to delete a{12} \(cannot be forced\) - image has dependent child images/);
  assert.throws(() => removeImage(s, APP, {}, doomed), /\(must be forced\) - image is referenced in multiple repositories/);
  assert.throws(
    () => removeImage(s, "base:1", { inUse: () => ({ container: "f".repeat(64), running: true }) }, doomed),
    /unable to remove repository reference "base:1" \(must force\) - container f{12} is using its referenced image a{12}/,
  );
  assert.throws(
    () => removeImage(s, LOOSE, { force: true, inUse: () => ({ container: "f".repeat(64), running: true }) }, doomed),
    /cannot be forced\) - image is being used by running container f{12}/,
  );
  assert.deepEqual(s, before);
  assert.equal(doomed.size, 0);
  // Forced, a stopped container's image is untagged but kept for it.
  assert.deepEqual(removeImage(s, "base:1", { force: true, inUse: (i) => (i === BASE ? "x" : undefined) }, doomed), [{ Untagged: "base:1" }, { Untagged: `base@${id("d")}` }]);
  assert.ok(s.images[BASE]);
});

test("pruneImages: dangling only by default; with all, every image no container uses", () => {
  const s = state();
  const doomed = new Set<string>();
  assert.deepEqual(pruneImages(s, {}, doomed), [{ Deleted: LOOSE }, { Deleted: L3 }]);
  assert.deepEqual(
    pruneImages(s, { all: true, inUse: (i) => i === BASE }, doomed).filter((r) => "Deleted" in r),
    [{ Deleted: APP }, { Deleted: L2 }],
  );
  assert.deepEqual(Object.keys(s.images), [BASE]);
});

test("parseState, normalizeState, renderIndex: the files' forms", () => {
  assert.equal(parseState("{"), undefined);
  assert.equal(parseState(JSON.stringify({ format: 2, images: {}, tags: {} })), undefined);
  assert.deepEqual(parseState(JSON.stringify(state())), state());
  const s = state();
  s.tags["gone:1"] = id("9");
  const normal = normalizeState(s);
  // io.containerd.image.name is the full reference when a default registry is configured.
  const previous = process.env.HANGAR_DEFAULT_REGISTRY;
  process.env.HANGAR_DEFAULT_REGISTRY = "registry.test";
  let text: string;
  try {
    text = renderIndex(normal);
  } finally {
    if (previous === undefined) delete process.env.HANGAR_DEFAULT_REGISTRY;
    else process.env.HANGAR_DEFAULT_REGISTRY = previous;
  }
  assert.deepEqual(Object.keys(normal.tags), ["app:1", "app:2", "base:1", "registry.example:5000/team/app:x"], "sorted, tags of missing images dropped");
  const index = JSON.parse(text) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  assert.deepEqual(
    index.manifests.map((m) => [m.digest, m.annotations?.["io.containerd.image.name"] ?? null, m.annotations?.["org.opencontainers.image.ref.name"] ?? null]),
    [
      [id("d"), "registry.test/library/base:1", "1"],
      [id("e"), "registry.example:5000/team/app:x", "x"],
      [id("e"), "registry.test/library/app:1", "1"],
      [id("e"), "registry.test/library/app:2", "2"],
      [id("f"), null, null],
    ],
  );
});
