import { test } from "node:test";
import assert from "node:assert/strict";
import { familiarString, fullString, matchesReferencePattern, parseReference, parseTagTarget, withDefaultTag } from "../../../../../src/core/engine/images/image-reference";
import { InvalidReferenceError } from "../../../../../src/core/engine/images/image-errors";

// The default registry's domain is configuration (HANGAR_DEFAULT_REGISTRY); a reserved test domain stands in for it.
const D = "registry.test";
process.env.HANGAR_DEFAULT_REGISTRY = D;

test("without a configured default registry, unqualified names stay unqualified and print in familiar form", () => {
  const saved = process.env.HANGAR_DEFAULT_REGISTRY;
  delete process.env.HANGAR_DEFAULT_REGISTRY;
  try {
    assert.deepEqual(parseReference("busybox"), { name: "library/busybox", tag: undefined, digest: undefined });
    assert.equal(familiarString(withDefaultTag(parseReference("library/busybox"))), "busybox:latest");
    assert.equal(fullString(withDefaultTag(parseReference("me/app"))), "me/app:latest");
    assert.equal(fullString(withDefaultTag(parseReference("localhost:5000/app"))), "localhost:5000/app:latest");
    assert.equal(familiarString(withDefaultTag(parseReference("registry.test/library/busybox"))), "registry.test/library/busybox:latest");
  } finally {
    process.env.HANGAR_DEFAULT_REGISTRY = saved;
  }
});

test("names normalise as Docker's ParseNormalizedNamed and print back in familiar form", () => {
  const cases: Array<[string, string, string]> = [
    ["busybox", `${D}/library/busybox:latest`, "busybox:latest"],
    ["busybox:1.36", `${D}/library/busybox:1.36`, "busybox:1.36"],
    ["library/busybox", `${D}/library/busybox:latest`, "busybox:latest"],
    [`${D}/library/busybox:1`, `${D}/library/busybox:1`, "busybox:1"],
    ["me/app", `${D}/me/app:latest`, "me/app:latest"],
    ["localhost/app:v", "localhost/app:v", "localhost/app:v"],
    ["localhost:5000/a/b", "localhost:5000/a/b:latest", "localhost:5000/a/b:latest"],
    ["registry.example/team/app:x.y-z_1", "registry.example/team/app:x.y-z_1", "registry.example/team/app:x.y-z_1"],
    ["a__b/c-d.e", `${D}/a__b/c-d.e:latest`, "a__b/c-d.e:latest"],
    [`app@sha256:${"a".repeat(64)}`, `${D}/library/app@sha256:${"a".repeat(64)}`, `app@sha256:${"a".repeat(64)}`],
  ];
  for (const [text, full, familiar] of cases) {
    const ref = withDefaultTag(parseReference(text));
    assert.equal(fullString(ref), full, text);
    assert.equal(familiarString(ref), familiar, text);
  }
});

test("invalid references are refused with Docker's wording", () => {
  for (const bad of ["", "UPPER", "a:b:c", "app:", ":tag", "-app", "a//b", "app:-x", `app@sha256:${"a".repeat(10)}`, "a".repeat(256), "a b"]) {
    assert.throws(
      () => parseReference(bad),
      (err: Error) => err instanceof InvalidReferenceError && /invalid reference format|must not be more|cannot specify/.test(err.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => parseReference("a".repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => parseReference("me/App"), /repository name \(me\/App\) must be lowercase/);
  assert.equal(parseReference("Me/app").name, "Me/app", "an uppercase first component is a registry host, as Docker reads it");
});

test("tag targets: the tag argument wins, latest by default, no digests", () => {
  assert.equal(parseTagTarget("app"), "app:latest");
  assert.equal(parseTagTarget("app:1"), "app:1");
  assert.equal(parseTagTarget("app:1", "2"), "app:2");
  assert.equal(parseTagTarget(`${D}/library/app`, ""), "app:latest");
  assert.throws(() => parseTagTarget(`app@sha256:${"b".repeat(64)}`), /digest reference/);
  assert.throws(() => parseTagTarget("app", "bad/tag"), /invalid tag format/);
  assert.throws(() => parseTagTarget("sha256", "abc"), /ambiguous/);
});

test("reference filters match familiar names and name:tag with path.Match globs", () => {
  assert.ok(matchesReferencePattern("busybox", "busybox:latest"));
  assert.ok(matchesReferencePattern("busybox:latest", "busybox:latest"));
  assert.ok(matchesReferencePattern("busy*", "busybox:1"));
  assert.ok(!matchesReferencePattern("*", "me/app:1"), "* stops at /");
  assert.ok(matchesReferencePattern("*/*", "me/app:1"));
  assert.ok(matchesReferencePattern("app:[0-9]", "app:7"));
  assert.ok(!matchesReferencePattern("app:[^0-9]", "app:7"));
  assert.ok(matchesReferencePattern("a?p", "app:x"));
  assert.ok(!matchesReferencePattern("[unclosed", "app:x"));
});
