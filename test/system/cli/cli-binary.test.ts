import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";

const run = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);

test("the built `hangar` binary runs by itself: --version, help, box list", async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-bin-"));
  try {
    // Run from an unrelated folder: the bundle must not need the repository's node_modules.
    const opts = { cwd: os.tmpdir(), env: { ...process.env, HANGAR_HOME: home, NODE_PATH: "" } };
    const version = await run(CLI, ["--version"], opts);
    assert.equal(version.stdout.trim().split(" ")[1], packageJson.version);
    const help = await run(CLI, ["help"], opts);
    assert.match(help.stdout, /Usage: hangar <verb>/);
    const boxes = await run(CLI, ["box", "list", "--json"], opts);
    assert.deepEqual(JSON.parse(boxes.stdout), { boxes: [] });
    await assert.rejects(run(CLI, ["nope"], opts), (err: { code?: number; stderr?: string }) => err.code === 2 && /unknown verb/.test(err.stderr ?? ""));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
