// The staging share is hostile ground (the engine machine writes into it
// over 9p): what the guest plants there must never make the host write or
// delete anything outside it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { GUEST_STAGING_DIR, LayerStaging } from "../../../../../src/core/engine/runtime/layer-staging";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-staging-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a staged layer is a new file the guest reads at its share path, gone once released", () =>
  withDir(async (dir) => {
    const staging = new LayerStaging(path.join(dir, "staging"));
    await staging.prepare();
    const staged = await staging.stage(Buffer.from("layer bytes"));
    const name = path.posix.basename(staged.guestPath);
    assert.equal(staged.guestPath, `${GUEST_STAGING_DIR}/${name}`);
    assert.match(name, /^[0-9a-f]{32}\.tar$/);
    assert.equal(await readFile(path.join(dir, "staging", name), "utf8"), "layer bytes");
    await staged.release();
    assert.deepEqual(await readdir(path.join(dir, "staging")), []);
  }));

test("a symlink the guest planted at the staged name is not followed: the write fails and the host file it points to is untouched", () =>
  withDir(async (dir) => {
    const victim = path.join(dir, "victim");
    await writeFile(victim, "host secret");
    const staging = new LayerStaging(path.join(dir, "staging"), GUEST_STAGING_DIR, () => "planted.tar");
    await staging.prepare();
    await symlink(victim, path.join(dir, "staging", "planted.tar"));
    await assert.rejects(staging.stage(Buffer.from("layer")), /EEXIST/);
    assert.equal(await readFile(victim, "utf8"), "host secret");
  }));

test("release unlinks the staged name even when the guest swapped it for a symlink: the target stays", () =>
  withDir(async (dir) => {
    const victim = path.join(dir, "victim");
    await writeFile(victim, "host secret");
    const staging = new LayerStaging(path.join(dir, "staging"));
    await staging.prepare();
    const staged = await staging.stage(Buffer.from("layer"));
    const hostPath = path.join(dir, "staging", path.posix.basename(staged.guestPath));
    await rm(hostPath);
    await symlink(victim, hostPath);
    await staged.release();
    assert.equal(existsSync(hostPath), false);
    assert.equal(await readFile(victim, "utf8"), "host secret");
  }));

test("prepare clears what a killed engine left an hour ago, not what a running one staged just now", () =>
  withDir(async (dir) => {
    const staging = new LayerStaging(path.join(dir, "staging"));
    await staging.prepare();
    const old = await staging.stage(Buffer.from("old"));
    const fresh = await staging.stage(Buffer.from("fresh"));
    const oldPath = path.join(dir, "staging", path.posix.basename(old.guestPath));
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(oldPath, hourAgo, hourAgo);
    await staging.prepare();
    assert.deepEqual(await readdir(path.join(dir, "staging")), [path.posix.basename(fresh.guestPath)]);
  }));

test("a file the guest writes for the host is read only when it is a regular file: a symlink to a host file, a folder or a FIFO (which would hang the open) is refused, and release removes either", () =>
  withDir(async (dir) => {
    const victim = path.join(dir, "victim");
    await writeFile(victim, "host secret");
    let n = 0;
    const staging = new LayerStaging(path.join(dir, "staging"), GUEST_STAGING_DIR, () => `f${n++}.tar`);
    await staging.prepare();
    const honest = staging.incoming();
    await writeFile(path.join(dir, "staging", path.posix.basename(honest.guestPath)), "changes");
    assert.equal((await honest.read()).toString(), "changes");
    await honest.release();
    const linked = staging.incoming();
    await symlink(victim, path.join(dir, "staging", path.posix.basename(linked.guestPath)));
    await assert.rejects(linked.read(), /ELOOP/);
    await linked.release();
    const folder = staging.incoming();
    await mkdir(path.join(dir, "staging", path.posix.basename(folder.guestPath), "sub"), { recursive: true });
    await assert.rejects(folder.read(), /not a regular file|EISDIR/);
    await folder.release();
    const fifo = staging.incoming();
    execFileSync("mkfifo", [path.join(dir, "staging", path.posix.basename(fifo.guestPath))]);
    await assert.rejects(fifo.read(), /not a regular file/);
    await fifo.release();
    assert.deepEqual(await readdir(path.join(dir, "staging")), []);
    assert.equal(await readFile(victim, "utf8"), "host secret");
  }));
