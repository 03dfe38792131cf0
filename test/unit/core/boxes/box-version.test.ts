// config.vm.box_version as Vagrant reads it (RubyGems' Gem::Requirement): the
// expectations are RubyGems' documented answers, e.g. `Gem::Requirement.new("~> 1.2").satisfied_by?(Gem::Version.new("1.9"))`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareVersions, newestSatisfying, parseVersionConstraint, satisfiesConstraint } from "../../../../src/core/boxes/box-version";

test("versions order as RubyGems orders them, not as text", () => {
  assert.ok(compareVersions("10.0", "9.0") > 0);
  assert.ok(compareVersions("1.10", "1.9") > 0);
  assert.equal(compareVersions("1.0", "1"), 0);
  assert.equal(compareVersions("1.0.0", "1"), 0);
  assert.ok(compareVersions("1.0.rc1", "1.0") < 0, "a prerelease comes before its release");
  assert.ok(compareVersions("1.0.rc2", "1.0.rc10") < 0);
  assert.ok(compareVersions("2.0.a", "1.9") > 0);
});

test("constraints: every comma-separated part must hold", () => {
  const cases: Array<[string, string, boolean]> = [
    ["1.5", ">= 1.0, < 2", true],
    ["2.0", ">= 1.0, < 2", false],
    ["10.0", ">= 9, < 11", true],
    ["10.0", "> 9.0", true],
    ["9.10", "> 9.9", true],
    ["1.0", "1.0", true],
    ["1.0.0", "= 1", true],
    ["1.1", "!= 1.1", false],
    ["1.9", "~> 1.2", true],
    ["2.0", "~> 1.2", false],
    ["1.2.9", "~> 1.2.3", true],
    ["1.3.0", "~> 1.2.3", false],
    ["1.2.2", "~> 1.2.3", false],
    ["3", "~> 3", true],
    ["4", "~> 3", false],
    ["1.0", "<= 1.0.0", true],
  ];
  for (const [version, constraint, expected] of cases) assert.equal(satisfiesConstraint(version, constraint), expected, `${version} ${constraint}`);
});

test("the newest installed version that meets the constraint is chosen, as `vagrant up` does", () => {
  const installed = ["1.0", "1.10", "1.9", "2.0", "0"];
  assert.equal(newestSatisfying(installed, null), "2.0");
  assert.equal(newestSatisfying(installed, ">= 1.0, < 2"), "1.10");
  assert.equal(newestSatisfying(installed, "~> 1.9.0"), "1.9");
  assert.equal(newestSatisfying(installed, "> 2"), undefined);
});

test("a constraint that is not one fails with Vagrant's wording and names itself", () => {
  for (const bad of ["banana", ">= 1.0,", "=> 1.0", ">= 1.0 < 2", ""]) {
    assert.throws(
      () => parseVersionConstraint(bad),
      (err: Error) => err.message.startsWith(`Invalid box version constraints: ${bad} `),
      bad,
    );
  }
});
