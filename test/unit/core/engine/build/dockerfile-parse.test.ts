import { test } from "node:test";
import assert from "node:assert/strict";
import { DockerIgnore } from "../../../../../src/core/engine/build/dockerignore";
import { parseGoDuration, shellWords } from "../../../../../src/core/engine/build/dockerfile-parse";

// How Dockerfiles split into instructions (lines, continuations, comments,
// the escape directive, flags, JSON and shell forms) is in the golden corpus:
// golden/<case>/{Dockerfile, expected.json}, walked by dockerfile-golden.test.ts.

test("variable substitution and quotes as Docker's shell lexer", () => {
  const env: Record<string, string> = { A: "1", EMPTY: "" };
  const look = (n: string) => env[n];
  assert.deepEqual(shellWords("$A ${A} ${B:-dflt} ${A:+alt} x${B:+alt} ${EMPTY:-e} y${EMPTY-e} '$A' \"x $A\" \\$A", look), ["1", "1", "dflt", "alt", "x", "e", "y", "$A", "x 1", "$A"]);
  assert.equal(parseGoDuration("1m30s"), 90e9);
  assert.equal(parseGoDuration("500ms"), 5e8);
  assert.equal(parseGoDuration("5x"), undefined);
});

test(".dockerignore: last match wins, ! exceptions, ** and parent folders", () => {
  const ig = new DockerIgnore("# c\n*.log\n!keep.log\n**/tmp\n/build/\n");
  assert.ok(ig.excludes("a.log"));
  assert.ok(!ig.excludes("keep.log"));
  assert.ok(!ig.excludes("sub/a.log"), "* does not cross folders");
  assert.ok(ig.excludes("x/y/tmp/file"));
  assert.ok(ig.excludes("build/out.js"));
  assert.ok(!ig.excludes("src/app.js"));
});
