// Cancellation plumbing in core: the machine daemon's `cancel` request, and
// what halt, destroy and box add leave behind when their signal is aborted.
// Real pieces throughout: a real daemon on its socket, real Ruby evaluating
// the Vagrantfile, a real .box archive. (A cancelled halt of a booted machine
// is in test/vscode/suite/machine-commands.test.ts.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { addBox, writeBoxFile } from "../../../../src/core/boxes/box-archive";
import { DaemonClient } from "../../../../src/core/daemon/daemon-client";
import { MachineDaemon } from "../../../../src/core/daemon/machine-daemon";
import { ProjectMachines } from "../../../../src/core/machines/project-machines";
import { CancelledError, HangarError } from "../../../../src/core/util/errors";
import { RubyEvaluator } from "../../../../src/core/vagrantfile/ruby-evaluator";

const cleanup: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function home(): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-cancel-"));
  cleanup.push(() => rm(tmp, { recursive: true, force: true }));
  const h = path.join(tmp, "home");
  await mkdir(h, { mode: 0o700 });
  return h;
}

test("the daemon answers a cancel of an unknown request, and a request that has no safe point completes despite one", async () => {
  const h = await home();
  const daemon = await MachineDaemon.listen(h);
  cleanup.push(() => daemon.close());
  const client = await DaemonClient.connect(h, { start: false });
  cleanup.push(() => client.close());
  assert.deepEqual(await client.call("cancel", { request: 4242 }), { cancelling: false });
  const abort = new AbortController();
  const listed = client.call("list", {}, undefined, undefined, abort.signal);
  abort.abort();
  assert.deepEqual(await listed, []);
  // A halt of a machine that is not running fails for that reason, not as a cancellation.
  const halt = client.call("halt", { key: `${h}#nothing`, persist: true }, undefined, undefined, AbortSignal.abort());
  await assert.rejects(halt, (err: Error) => err instanceof HangarError && !(err instanceof CancelledError) && /is not running/.test(err.message));
});

async function project(h: string): Promise<{ p: ProjectMachines; dir: string }> {
  const dir = path.join(path.dirname(h), "project");
  await mkdir(dir);
  const vagrantfile = path.join(dir, "Vagrantfile");
  await writeFile(vagrantfile, 'Vagrant.configure("2") do |config|\n  config.vm.box = "hangar/debian-busybox"\n  config.vm.define "web"\n  config.vm.define "db"\nend\n');
  const ruby = new RubyEvaluator();
  cleanup.push(() => ruby.dispose());
  return { p: new ProjectMachines(vagrantfile, h, ruby), dir };
}

const RECORD = { box: "hangar/debian-busybox", boxVersion: "1", boxDir: "/nonexistent", createdAt: "2026-01-01T00:00:00.000Z", state: "poweroff" as const, provisioned: true };

test("a cancelled halt or destroy leaves machines as they were and says so; uncancelled, destroy deletes them", async () => {
  const h = await home();
  const { p } = await project(h);
  await p.records.write("web", { ...RECORD, state: "saved" });
  await p.records.write("db", RECORD);
  await assert.rejects(p.halt(["web"], false, AbortSignal.abort()), (err: Error) => err instanceof CancelledError && err.message === "Halting 'web' was cancelled; it is left as it was.");
  assert.equal((await p.records.read("web"))?.state, "saved", "the saved machine is still saved");
  await assert.rejects(p.destroy([], AbortSignal.abort()), (err: Error) => err instanceof CancelledError && /Destroy was cancelled; 'web', 'db' are left as before/.test(err.message));
  assert.deepEqual(
    (await p.status()).map((s) => [s.name, s.state]),
    [
      ["web", "saved"],
      ["db", "poweroff"],
    ],
  );
  await p.destroy(["db"], new AbortController().signal);
  assert.deepEqual(
    (await p.status()).map((s) => [s.name, s.state]),
    [
      ["web", "saved"],
      ["db", "not_created"],
    ],
  );
});

/** A .box of `bytes` random bytes (incompressible, so unpacking takes a while) plus metadata.json. */
async function boxFile(bytes: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cancel-box-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, "content"));
  await writeFile(path.join(dir, "content", "metadata.json"), JSON.stringify({ provider: "embedded" }));
  await writeFile(path.join(dir, "content", "disk.img"), randomBytes(bytes));
  const out = path.join(dir, "test.box");
  await writeBoxFile(path.join(dir, "content"), ["metadata.json", "disk.img"], out);
  return out;
}

test("box add: cancelled while unpacking or before, nothing is added and nothing is left; uncancelled, the box is added", async () => {
  const h = await home();
  const file = await boxFile(48 * 1024 * 1024);
  const abort = new AbortController();
  const adding = addBox(h, file, "cancelled/box", "0", false, abort.signal);
  setTimeout(() => abort.abort(), 20);
  await assert.rejects(adding, (err: Error) => err instanceof CancelledError && err.message === "Adding box cancelled/box was cancelled; nothing was added.");
  await assert.rejects(addBox(h, file, "early/box", "0", false, AbortSignal.abort()), CancelledError);
  assert.deepEqual(await readdir(path.join(h, "boxes")), [], "no box and no temporary folder is left");
  const dest = await addBox(h, file, "kept/box", "0", false, new AbortController().signal);
  assert.equal(JSON.parse(await readFile(path.join(dest, "metadata.json"), "utf8")).provider, "embedded");
});
