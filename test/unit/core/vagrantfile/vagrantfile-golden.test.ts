// Golden Vagrantfiles in the styles real projects use (golden/<case>/Vagrantfile,
// with any files they read beside them) and what `hangar validate --json` must
// report for each (expected.json). Cases named error-* are the negative ones:
// their expected error text must appear in the report's error, on that line.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { loadVagrantfile } from "../../../../src/core/vagrantfile/load-vagrantfile";
import { RubyEvaluator } from "../../../../src/core/vagrantfile/ruby-evaluator";
import { validationReport } from "../../../../src/core/vagrantfile/validation-report";
import { GOLDEN_ENV, project } from "./golden-projection";

const ROOT = path.join(__dirname, "golden");
const cases = readdirSync(ROOT).sort();
const ruby = new RubyEvaluator();
after(() => ruby.dispose());

test("the golden corpus has at least 30 Vagrantfiles, negative ones among them", () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  assert.ok(cases.filter((c) => c.startsWith("error-")).length >= 10);
});

for (const name of cases) {
  test(`golden Vagrantfile: ${name}`, async () => {
    const dir = path.join(ROOT, name);
    const expected = JSON.parse(readFileSync(path.join(dir, "expected.json"), "utf8")) as { error?: string; line?: number | null };
    const report = validationReport(await loadVagrantfile(path.join(dir, "Vagrantfile"), ruby, GOLDEN_ENV));
    if (name.startsWith("error-")) {
      assert.ok("error" in report, `expected an error, got machines: ${JSON.stringify(report).slice(0, 300)}`);
      assert.ok(report.error.includes(expected.error!), `error ${JSON.stringify(report.error)} should contain ${JSON.stringify(expected.error)}`);
      assert.equal(report.line, expected.line);
    } else {
      assert.deepEqual(project(report), expected);
    }
  });
}
