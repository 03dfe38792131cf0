// The same attacks against the server's portable resolution (lstat checks by
// path, used where there is no /proc/self/fd: macOS, Windows), here forced on
// Linux by a preload that reports another platform.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

test("confinement holds without /proc/self/fd too", { skip: process.platform !== "linux" }, () => {
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      path.join(__dirname, "fixtures", "as-darwin.mjs"),
      "--import",
      "tsx",
      "--test",
      "--test-reporter=tap",
      path.join(__dirname, "host-share-confinement.test.ts"),
      path.join(__dirname, "host-share-server.test.ts"),
    ],
    // Without NODE_TEST_CONTEXT the child reports to its own stdout, not to this runner.
    { encoding: "utf8", timeout: 120_000, env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /# pass [1-9]/);
  assert.match(run.stdout, /# fail 0/);
});
