import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
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
    await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});

test("the built `hangar validate --json` evaluates a Vagrantfile with the shipped Ruby, and fails clearly on a broken one", { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cli-validate-"));
  try {
    const sample = path.resolve(__dirname, "..", "..", "..", "samples", "workspace", "Vagrantfile");
    await copyFile(sample, path.join(dir, "Vagrantfile"));
    await mkdir(path.join(dir, "sub"));
    // Run from a subfolder: the Vagrantfile is found upwards, as Vagrant does.
    const ok = await run(CLI, ["validate", "--json"], { cwd: path.join(dir, "sub") });
    const report = JSON.parse(ok.stdout) as { machines: Array<{ name: string; memory: number; forwardedPorts: Array<{ host: number }> }> };
    assert.deepEqual(
      report.machines.map((m) => [m.name, m.memory, m.forwardedPorts[0].host]),
      [
        ["web", 256, 18080],
        ["db", 256, 15432],
      ],
    );

    await writeFile(path.join(dir, "Vagrantfile"), 'Vagrant.configure("2") do |config|\n  config.vm.box = "b"\n  config.vm.boxx = "typo"\nend\n');
    const bad = await run(CLI, ["validate", "--json"], { cwd: dir }).then(
      () => assert.fail("validate should exit 1 on an invalid Vagrantfile"),
      (err: { code?: number; stdout?: string }) => err,
    );
    assert.equal(bad.code, 1);
    const error = JSON.parse(bad.stdout ?? "") as { error: string; line: number };
    assert.match(error.error, /shouldn't exist: config\.vm\.boxx/);
    assert.equal(error.line, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("output into a pipe whose reader is gone ends quietly (hangar engine status | true)", async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-epipe-"));
  try {
    // The shell's own pipe: `true` has exited before hangar writes its first line.
    const r = await promisify(execFile)("sh", ["-c", `node ${JSON.stringify(CLI)} engine status | true`], { env: { ...process.env, HANGAR_HOME: home } });
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/, r.stderr);
  } finally {
    await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});
