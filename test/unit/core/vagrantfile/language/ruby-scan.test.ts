import { test } from "node:test";
import assert from "node:assert/strict";
import { scanRuby, statementStart } from "../../../../../src/core/vagrantfile/language/ruby-scan";
import { atCursor } from "./cursor";

const modeAt = (source: string): string => {
  const { text, offset } = atCursor(source);
  return scanRuby(text, offset).mode;
};

test("tells code, comments, strings and heredoc bodies apart at a position", () => {
  assert.equal(modeAt("x = 1 ‸# c"), "code");
  assert.equal(modeAt("x = 1 # ‸c"), "comment");
  assert.equal(modeAt('x = "a‸b"'), "string");
  assert.equal(modeAt('x = "ab"‸'), "code");
  assert.equal(modeAt('x = "a #{y‸} b"'), "string");
  assert.equal(modeAt('x = "#{"}"}" ‸'), "code");
  assert.equal(modeAt("x = 'a\\'‸'"), "string");
  assert.equal(modeAt("x = %w[a ‸b]"), "string");
  assert.equal(modeAt("x = %w[a [b] c] ‸"), "code");
  assert.equal(modeAt("x = 10 % 3 ‸"), "code");
  assert.equal(modeAt("x = <<-EOS\n  a ‸\n  EOS\ny"), "heredoc");
  assert.equal(modeAt("x = <<-EOS\n  a\n  EOS\n‸y"), "code");
  assert.equal(modeAt("x = <<EOS\n  EOS\n‸y\nEOS\n"), "heredoc"); // plain <<EOS ends only at a line that is exactly EOS
  assert.equal(modeAt("a = [] <<x\n‸y"), "code");
  assert.equal(modeAt("=begin\n‸x\n=end\n"), "comment");
  assert.equal(modeAt("=begin\nx\n=end\n‸y"), "code");
});

test("masked text keeps offsets, delimiters and newlines", () => {
  const text = 'a = "x,y" # c,d\nb = <<~S\n  q,\nS\nc';
  const scan = scanRuby(text);
  assert.equal(scan.masked.length, text.length);
  // The heredoc body and its terminator line are blanked; `<<~S` itself is code.
  assert.equal(scan.masked, 'a = "   "      \nb = <<~S\n    \n \nc');
  assert.equal(scan.code.split("\n")[0], 'a = "x,y"      ');
});

test("a statement continues over lines ending in a comma or an open bracket", () => {
  const text = 'x.call "a",\n  b: 1, # note,\n  c: 2\ny';
  const masked = scanRuby(text).masked;
  assert.equal(statementStart(masked, text.indexOf("c: 2")), 0);
  assert.equal(statementStart(masked, text.length), text.lastIndexOf("\n") + 1);
});
