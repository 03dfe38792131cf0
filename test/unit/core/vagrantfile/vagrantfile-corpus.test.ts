// A corpus of Vagrantfiles in the styles real projects use
// (cases/<case>/Vagrantfile, with any file a case reads, runs or syncs beside
// it), each with what `hangar validate --json` must report (expected.json).
//
// The expectations were worked out from Vagrant's documented semantics (and
// its source), not copied from Hangar's output. For a valid Vagrantfile,
// expected.json is the documented projection of the report: `{ machines,
// output }` with exactly the fields of `project` below. For an invalid one it
// is `{ error, line }`: the report's error must contain `error` ("{caseDir}"
// stands for the case's folder) and point at `line`.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadVagrantfile } from "../../../../src/core/vagrantfile/load-vagrantfile";
import { RubyEvaluator } from "../../../../src/core/vagrantfile/ruby-evaluator";
import { validationReport, type ValidationReport } from "../../../../src/core/vagrantfile/validation-report";
import { project } from "./golden-projection";

const CASES = path.join(__dirname, "cases");
const cases = readdirSync(CASES)
  .filter((name) => statSync(path.join(CASES, name)).isDirectory())
  .sort();

/** The environment every case is evaluated with: fixed, never the caller's. */
const CONTROLLED_ENV: NodeJS.ProcessEnv = { HOME: os.tmpdir(), HANGAR_TEST_MEMORY: "768" };
/** The host Vagrant::Util::Platform answers for, whatever host runs the test. */
const HOST_PLATFORM: NodeJS.Platform = "linux";

/** One Ruby process for the whole corpus, as the extension reuses one. */
const ruby = new RubyEvaluator();
after(() => ruby.dispose());

type ErrorExpectation = { error: string; line: number | null };

async function report(caseDir: string): Promise<ValidationReport> {
  return validationReport(await loadVagrantfile(path.join(caseDir, "Vagrantfile"), ruby, CONTROLLED_ENV, undefined, HOST_PLATFORM));
}

test("the corpus has at least 30 Vagrantfiles, negative ones among them", () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  const negative = cases.filter((name) => "error" in (JSON.parse(readFileSync(path.join(CASES, name, "expected.json"), "utf8")) as object));
  assert.ok(negative.length >= 10, `only ${negative.length} negative cases`);
});

for (const name of cases) {
  test(`Vagrantfile corpus: ${name}`, async () => {
    const caseDir = path.join(CASES, name);
    const expected = JSON.parse(readFileSync(path.join(caseDir, "expected.json"), "utf8")) as object;
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
