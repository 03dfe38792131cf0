import { test } from "node:test";
import assert from "node:assert/strict";
import { DockerIgnore } from "../../../../../src/core/engine/build/dockerignore";
import { parseDockerfile, parseGoDuration, shellWords, splitFlags } from "../../../../../src/core/engine/build/dockerfile-parse";

test("instructions with lines, continuations, comments inside them, and flags kept", () => {
  const p = parseDockerfile("FROM scratch\nRUN echo a \\\n  # note\n  && echo b\ncopy --from=x a b\n");
  assert.deepEqual(p.instructions, [
    { keyword: "FROM", line: 1, args: "scratch" },
    { keyword: "RUN", line: 2, args: "echo a   && echo b" },
    { keyword: "COPY", line: 5, args: "--from=x a b" },
  ]);
  assert.deepEqual([...splitFlags("--from=x --chown=1:2 a b").flags], [["from", "x"], ["chown", "1:2"]]);
});

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
