// Golden Dockerfiles, kept as buildkit keeps its parser's (frontend/dockerfile/
// parser/testfiles and testfiles-negative): golden/<case>/Dockerfile and what
// Hangar must make of it (expected.json).
//
// A case named error-* is negative: the build fails before it needs an image
// or the engine machine, and expected.json is `{ "error": <the BuildError's
// whole message, line and hint included> }`. Any other case is positive, and
// expected.json is the Dockerfile as the builder receives it: the escape
// character and the typed instructions (instruction, line, flags, the
// arguments after the flags, and the exec form's argv when the arguments are
// a JSON array of strings).
//
// UPDATE_GOLDEN=1 node --import tsx --test <this file> rewrites every
// expected.json from what Hangar does now: read the diff before committing it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { buildImage, BuildError } from "../../../../../src/core/engine/build/dockerfile-builder";
import { execForm, parseDockerfile, splitFlags } from "../../../../../src/core/engine/build/dockerfile-parse";
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { withTempDir } from "../images/tar-fixtures";

const ROOT = path.join(__dirname, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const cases = readdirSync(ROOT)
  .filter((name) => statSync(path.join(ROOT, name)).isDirectory())
  .sort();

/** What the builder works from: the parse, with each instruction's flags and exec form split out as the builder splits them. */
function instructions(dockerfile: string): unknown {
  const parsed = parseDockerfile(dockerfile);
  return {
    escape: parsed.escape,
    instructions: parsed.instructions.map((ins) => {
      const { flags, rest } = splitFlags(ins.args);
      return { instruction: ins.keyword, line: ins.line, flags: Object.fromEntries(flags), args: rest, exec: execForm(rest) ?? null };
    }),
  };
}

/** The error a build of the case's folder (its Dockerfile as the only source) fails with, into an empty image store, without the engine machine. */
async function buildError(caseDir: string): Promise<{ error: string }> {
  return withTempDir(async (dir) => {
    const store = await ImageStore.open(path.join(dir, "images"));
    try {
      await buildImage({ contextDir: caseDir, store, hangarHome: path.join(dir, "home"), onStream: () => {} });
    } catch (err) {
      assert.ok(err instanceof BuildError, `expected a BuildError, got ${String(err)}`);
      return { error: err.message };
    }
    assert.fail("the build succeeded");
  });
}

test("the golden Dockerfiles: at least 20, negative ones (error-*) among them", () => {
  assert.ok(cases.length >= 20, `only ${cases.length} cases`);
  assert.ok(cases.filter((name) => name.startsWith("error-")).length >= 8);
});

for (const name of cases) {
  test(`golden Dockerfile: ${name}`, async () => {
    const caseDir = path.join(ROOT, name);
    const expectedFile = path.join(caseDir, "expected.json");
    const actual = name.startsWith("error-") ? await buildError(caseDir) : instructions(readFileSync(path.join(caseDir, "Dockerfile"), "utf8"));
    if (UPDATE) writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    assert.deepEqual(actual, JSON.parse(readFileSync(expectedFile, "utf8")));
  });
}
