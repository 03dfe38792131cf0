// Which host folders the engine machine sees, and where: the mapping of bind
// sources to guest paths, and the refusal of anything outside, symlinks included.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { EngineShares, GUEST_VOLUMES_DIR } from "../../../../../src/core/engine/volumes/engine-shares";
import { MountInvalidError } from "../../../../../src/core/engine/volumes/volume-errors";

let dir = "";
before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "hangar-shares-")));
  await mkdir(path.join(dir, "a", "inner"), { recursive: true });
  await mkdir(path.join(dir, "b"), { recursive: true });
  await mkdir(path.join(dir, "outside"), { recursive: true });
  await symlink(path.join(dir, "outside"), path.join(dir, "a", "escape"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("roots: missing ones dropped, nested ones covered by their parent; synced folders keep root ownership", () => {
  const shares = EngineShares.of([path.join(dir, "a"), path.join(dir, "a", "inner"), path.join(dir, "b"), path.join(dir, "missing")]);
  assert.deepEqual(shares.roots, [path.join(dir, "a"), path.join(dir, "b")]);
  assert.deepEqual(shares.syncedFolders("/vols"), [
    { hostPath: "/vols", guestPath: GUEST_VOLUMES_DIR, owner: { uid: 0, gid: 0 } },
    { hostPath: path.join(dir, "a"), guestPath: "/var/lib/hangar/host/0", owner: { uid: 0, gid: 0 } },
    { hostPath: path.join(dir, "b"), guestPath: "/var/lib/hangar/host/1", owner: { uid: 0, gid: 0 } },
  ]);
});

test("bind sources map under their root's share, missing paths too; outside (or through a symlink out) is refused naming the roots", () => {
  const shares = EngineShares.of([path.join(dir, "a"), path.join(dir, "b")]);
  assert.equal(shares.guestPathOf(path.join(dir, "a")), "/var/lib/hangar/host/0");
  assert.equal(shares.guestPathOf(path.join(dir, "a", "inner")), "/var/lib/hangar/host/0/inner");
  assert.equal(shares.guestPathOf(path.join(dir, "b", "not", "yet")), "/var/lib/hangar/host/1/not/yet");
  for (const outside of [path.join(dir, "outside"), path.join(dir, "a", "escape"), path.join(dir, "a", "escape", "deeper"), path.join(dir, "ab"), "/"]) {
    assert.throws(
      () => shares.guestPathOf(outside),
      (e: unknown) =>
        e instanceof MountInvalidError &&
        e.message.includes(`The bind mount source ${outside} is not in a folder shared with Hangar's engine machine (shared: ${path.join(dir, "a")}, ${path.join(dir, "b")})`) &&
        e.message.includes("HANGAR_ENGINE_SHARES"),
      outside,
    );
  }
});

test("HANGAR_ENGINE_SHARES replaces the default (home and temporary folder); relative entries are refused", () => {
  assert.deepEqual(
    EngineShares.fromEnv({ HANGAR_ENGINE_SHARES: [path.join(dir, "b"), path.join(dir, "a")].join(path.delimiter) }).roots,
    [path.join(dir, "b"), path.join(dir, "a")],
    "in the order given (a root's guest path is its place in the list)",
  );
  const defaults = EngineShares.fromEnv({});
  for (const p of [os.homedir(), os.tmpdir()]) assert.doesNotThrow(() => defaults.guestPathOf(path.join(p, "x")), p);
  assert.throws(() => EngineShares.fromEnv({ HANGAR_ENGINE_SHARES: "relative/dir" }), /HANGAR_ENGINE_SHARES lists "relative\/dir", which is not an absolute path/);
});
