import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDeb822 } from "../../../../../src/core/boxes/debian/deb822";

test("paragraphs, continuation lines, comments and case-insensitive names", () => {
  const text = [
    "# a comment: with a colon, before anything",
    "Types: deb",
    "URIs:",
    "# the old one: http://old.example/debian",
    " http://mirror.example/debian",
    "  http://second.example/debian",
    "",
    "",
    "Package: x",
    "Description: short",
    " long line one",
    " .",
    " after an empty line",
    "",
  ].join("\r\n");
  const [sources, pkg, ...rest] = parseDeb822(text);
  assert.equal(rest.length, 0);
  assert.equal(sources.get("uris"), "\nhttp://mirror.example/debian\nhttp://second.example/debian", "the comment neither ends nor steals the field");
  assert.equal(sources.get("TYPES"), "deb");
  assert.deepEqual([...sources.fields.keys()], ["Types", "URIs"], "names as written, in order");
  assert.equal(pkg.get("Description"), "short\nlong line one\n\nafter an empty line");
});

test("`only` keeps just the named fields", () => {
  const [p] = parseDeb822("Package: x\nDescription: long\n text\nVersion: 1\n", { only: ["package", "Version"] });
  assert.deepEqual(
    [...p.fields.entries()],
    [
      ["Package", "x"],
      ["Version", "1"],
    ],
  );
});
