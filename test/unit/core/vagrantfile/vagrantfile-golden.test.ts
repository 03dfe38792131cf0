// Golden Vagrantfiles in the styles real projects use: golden/<case>/Vagrantfile,
// with any file the case reads, runs or syncs beside it, and what
// `hangar validate --json` must report for it (expected.json).
//
// The expectations were worked out from Vagrant's documented semantics (and
// its source), not copied from Hangar's output. For a valid Vagrantfile,
// expected.json is the documented projection of the report (`{ machines,
// output }`, see golden-projection.ts). Negative cases sit beside the positive
// ones, named error-*: their expected.json is `{ error, line }`, and the
// report's error must contain `error` ("{caseDir}" stands for the case's
// folder) and point at `line`.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { loadVagrantfile } from "../../../../src/core/vagrantfile/load-vagrantfile";
import { RubyEvaluator } from "../../../../src/core/vagrantfile/ruby-evaluator";
import { validationReport, type ValidationReport } from "../../../../src/core/vagrantfile/validation-report";
import { GOLDEN_ENV, HOST_PLATFORM, project } from "./golden-projection";

const ROOT = path.join(__dirname, "golden");
const cases = readdirSync(ROOT)
  .filter((name) => statSync(path.join(ROOT, name)).isDirectory())
  .sort();

/** One Ruby process for the whole corpus, as the extension reuses one. */
const ruby = new RubyEvaluator();
after(() => ruby.dispose());

type ErrorExpectation = { error: string; line: number | null };

function expectation(name: string): object {
  return JSON.parse(readFileSync(path.join(ROOT, name, "expected.json"), "utf8")) as object;
}

async function report(caseDir: string): Promise<ValidationReport> {
  return validationReport(await loadVagrantfile(path.join(caseDir, "Vagrantfile"), ruby, GOLDEN_ENV, undefined, HOST_PLATFORM));
}

test("the golden corpus has at least 30 Vagrantfiles, negative ones among them, named error-*", () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  const negative = cases.filter((name) => "error" in expectation(name));
  assert.deepEqual(
    negative,
    cases.filter((name) => name.startsWith("error-")),
    "a case expects an error exactly when it is named error-*",
  );
  assert.ok(negative.length >= 10, `only ${negative.length} negative cases`);
});

for (const name of cases) {
  test(`golden Vagrantfile: ${name}`, async () => {
    const caseDir = path.join(ROOT, name);
    const expected = expectation(name);
    const actual = await report(caseDir);
    if ("error" in expected) {
      const { error, line } = expected as ErrorExpectation;
      assert.ok("error" in actual, `expected an error, got machines: ${JSON.stringify(actual).slice(0, 400)}`);
      const text = error.split("{caseDir}").join(caseDir);
      assert.ok(actual.error.includes(text), `error ${JSON.stringify(actual.error)} should contain ${JSON.stringify(text)}`);
      assert.equal(actual.line, line);
    } else {
      assert.ok(!("error" in actual), `expected no error, got: ${"error" in actual ? `${actual.error} (line ${actual.line})` : ""}`);
      assert.deepEqual(project(actual), expected);
    }
  });
}
