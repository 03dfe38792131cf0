import { test } from "node:test";
import assert from "node:assert/strict";
import { compareDebianVersions } from "../../../../../src/core/boxes/debian/debian-version-order";

// [a, b, expected sign of compare(a, b)] — each row checked both ways round.
// The expectations are dpkg --compare-versions' answers.
const TABLE: Array<[string, string, -1 | 0 | 1]> = [
  ["1.0", "1.0", 0],
  ["1.0~rc1", "1.0", -1], // ~ sorts before the end of the string
  ["1.0~rc1", "1.0~rc2", -1],
  ["1.0~~", "1.0~", -1],
  ["1.0~", "1.0", -1],
  ["1.0~rc1-1", "1.0-1", -1],
  ["1.0", "1.0.1", -1],
  ["1.0", "1.0a", -1],
  ["1.0a", "1.0+", -1], // letters sort before non-letters
  ["1.0+", "1.0.", -1], // non-letters by character code
  ["1.0-1", "1.0-2", -1],
  ["1.0-1", "1.0-1.1", -1],
  ["1.0-9", "1.0-10", -1], // digit runs compare as numbers
  ["1.0", "1.0-0", 0], // no revision equals revision 0
  ["1.0-1", "1.0", 1],
  ["1:0.1", "2.0", 1], // any epoch beats no epoch
  ["0:2.0", "2.0", 0],
  ["1:1.0", "2:0.1", -1],
  ["01.0", "1.0", 0], // leading zeros do not count
  ["1.2.3-4+deb12u1", "1.2.3-4", 1],
  ["1.2.3-4+deb12u1", "1.2.3-4+deb12u2", -1],
  ["1.2.3-4+b1", "1.2.3-4+deb12u1", -1], // b < d
  ["1:2.30-1-2", "1:2.30-1-10", -1], // revision is after the last dash
  ["6.1.140-1", "6.1.76-1", 1],
  ["6.1.0-37", "6.1.0-9", 1],
  ["1.36.1-9", "1:1.30", -1],
  ["2.36-9+deb12u10", "2.36-9+deb12u9", 1],
  ["99999999999999999999", "99999999999999999998", 1], // no overflow
  ["a", "", 1],
  ["", "~", 1],
];

test("Debian version order: epochs, upstream, revisions and the ~ rules", () => {
  for (const [a, b, expected] of TABLE) {
    assert.equal(Math.sign(compareDebianVersions(a, b)), expected, `${a} vs ${b}`);
    assert.equal(Math.sign(compareDebianVersions(b, a)), -expected || 0, `${b} vs ${a}`);
  }
});

test("sorting with it puts pre-releases first and epochs last", () => {
  const sorted = ["1:0.9", "1.0", "1.0~rc1", "1.0-1", "1.0~beta2", "0.9", "1.0+dfsg-1"].sort(compareDebianVersions);
  assert.deepEqual(sorted, ["0.9", "1.0~beta2", "1.0~rc1", "1.0", "1.0-1", "1.0+dfsg-1", "1:0.9"]);
});
