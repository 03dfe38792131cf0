import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../src/cli/main";
import type { CliIo } from "../../../src/cli/cli-command";
import packageJson from "../../../package.json";

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += t + "\n"), err: (t) => (err += t + "\n"), env, cwd: process.cwd() };
  const code = await main(argv, io);
  return { code, out, err };
}

test("--version prints the package version", async () => {
  const r = await run(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.out, new RegExp(`^Hangar ${packageJson.version.replace(/\./g, "\\.")} \\(v86 0\\.5\\.462`));
});

test("help lists the verbs; help for an unknown verb fails", async () => {
  const r = await run(["help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /hangar box list/);
  const bad = await run(["help", "fly"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /no verb "fly"/);
});

test("an unknown verb exits 2 and points at help", async () => {
  const r = await run(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown verb "frobnicate".*hangar help/);
});

test("a verb group alone, or with a wrong verb, lists that group's verbs", async () => {
  const r = await run(["engine"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /`hangar engine` needs a verb/);
  assert.match(r.err, /hangar engine start/);
  assert.match(r.err, /hangar engine env/);
  const wrong = await run(["box", "frob"]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /unknown verb "box frob"/);
  assert.match(wrong.err, /hangar box remove/);
});

test("box list reads HANGAR_HOME; a bad flag is a usage error", async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-"));
  try {
    const empty = await run(["box", "list"], { HANGAR_HOME: home });
    assert.match(empty.out, /no installed boxes/);
    const dir = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox", "0.1.0", "embedded");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "metadata.json"), '{"provider":"embedded"}');
    const listed = await run(["box", "list"], { HANGAR_HOME: home });
    assert.match(listed.out, /^hangar\/debian-busybox \(embedded, 0\.1\.0\)$/m);
    const json = JSON.parse((await run(["box", "list", "--json"], { HANGAR_HOME: home })).out) as { boxes: Array<{ name: string }> };
    assert.deepEqual(
      json.boxes.map((b) => b.name),
      ["hangar/debian-busybox"],
    );
    const bad = await run(["box", "list", "--yaml"], { HANGAR_HOME: home });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Unknown argument: --yaml\nUsage: hangar box list/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
