// The volume store on a real folder: create (named, anonymous, idempotent),
// refusals that change nothing, removal, and what survives a reopen or a crash.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { MountInvalidError, VolumeNotFoundError } from "../../../../../src/core/engine/volumes/volume-errors";
import { ANONYMOUS_LABEL, isAnonymous, VolumeStore } from "../../../../../src/core/engine/volumes/volume-store";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-volumes-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("create, get, list, size, remove; events for each change", async () => {
  const root = path.join(dir, "a");
  const events: string[] = [];
  const store = await VolumeStore.open(root, (action, v) => events.push(`${action} ${v.Name}`));
  const { volume, created } = await store.create({ name: "web-data", labels: { team: "blue" } });
  assert.equal(created, true);
  assert.deepEqual(
    { ...volume, CreatedAt: "" },
    { Name: "web-data", Driver: "local", Mountpoint: path.join(root, "web-data", "_data"), CreatedAt: "", Labels: { team: "blue" }, Scope: "local", Options: null },
  );
  assert.match(volume.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal((await store.create({ name: "web-data" })).created, false, "an existing name is returned as it is, as Docker does");
  await writeFile(path.join(volume.Mountpoint, "f"), "12345");
  assert.equal(await store.size("web-data"), 5);
  const anon = (await store.create({ labels: { [ANONYMOUS_LABEL]: "" } })).volume;
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.equal(isAnonymous(anon), true);
  assert.equal(isAnonymous(volume), false);
  assert.deepEqual(
    store.list().map((v) => v.Name),
    [anon.Name, "web-data"].sort(),
  );
  await store.remove("web-data");
  assert.throws(() => store.get("web-data"), VolumeNotFoundError);
  await assert.rejects(store.remove("web-data"), /get web-data: no such volume/);
  assert.deepEqual(await readdir(root), [anon.Name], "the folder went with it, and no trash is left");
  assert.deepEqual(events, ["create web-data", `create ${anon.Name}`, "destroy web-data"]);
});

test("refusals change nothing: other drivers, driver options, bad names", async () => {
  const root = path.join(dir, "b");
  const store = await VolumeStore.open(root);
  await assert.rejects(store.create({ name: "x1", driver: "nfs" }), (e: unknown) => e instanceof MountInvalidError && /Volume driver "nfs" is not available/.test(e.message));
  await assert.rejects(store.create({ name: "x1", driverOpts: { type: "tmpfs" } }), /takes no driver options \(type\)/);
  await assert.rejects(store.create({ name: "x" }), /volume name is too short/);
  await assert.rejects(store.create({ name: "../etc" }), /includes invalid characters/);
  await assert.rejects(store.create({ name: "-x" }), /includes invalid characters/);
  assert.deepEqual(await readdir(root), []);
});

test("a reopened store has the same volumes; an unfinished create is not a volume and an unfinished removal is finished", async () => {
  const root = path.join(dir, "c");
  const first = await VolumeStore.open(root);
  const made = (await first.create({ name: "kept", labels: { a: "b" } })).volume;
  await writeFile(path.join(made.Mountpoint, "data"), "x");
  // What a crash leaves: a folder whose metadata was never written, and one renamed for removal.
  await mkdir(path.join(root, "half", "_data"), { recursive: true });
  await mkdir(path.join(root, ".removing-gone-0000", "_data"), { recursive: true });
  const second = await VolumeStore.open(root);
  assert.deepEqual(second.list(), [made]);
  assert.equal(existsSync(path.join(root, ".removing-gone-0000")), false);
  assert.equal((await second.create({ name: "half" })).created, true, "the unfinished create's name can be used");
  assert.deepEqual(
    second.list().map((v) => v.Name),
    ["half", "kept"],
  );
});
