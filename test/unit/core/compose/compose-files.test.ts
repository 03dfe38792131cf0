// composeFileMatcher: the default names Compose looks for and their variants,
// globs with `*`, `?`, `{a,b}`, and patterns with folders, which match the end
// of a path; look-alikes are not Compose files.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeFileMatcher, DEFAULT_COMPOSE_FILE_PATTERNS } from "../../../../src/core/compose/compose-files";

describe("composeFileMatcher", () => {
  const isCompose = composeFileMatcher(DEFAULT_COMPOSE_FILE_PATTERNS);

  it("takes the default names and their variants, in any folder", () => {
    for (const f of ["compose.yaml", "/p/compose.yml", "/p/compose.prod.yaml", "docker-compose.yml", "/a/b/docker-compose.yaml", "docker-compose.override.yml", "C:\\p\\docker-compose.dev.yaml"]) {
      assert.ok(isCompose(f), f);
    }
  });

  it("leaves look-alikes out", () => {
    for (const f of ["compose.json", "my-compose.yaml", "/p/docker-compose.yml.bak", "/compose.yaml/x.txt", "composeXyaml"]) assert.ok(!isCompose(f), f);
  });

  it("reads globs: ?, {a,b}, ** and patterns with a folder", () => {
    const m = composeFileMatcher(["stack-?.{yml,yaml}", "deploy/**/app.yml", " ", ""]);
    assert.ok(m("/x/stack-1.yml") && m("stack-a.yaml"));
    assert.ok(!m("stack-10.yml") && !m("stack-1.json"));
    assert.ok(m("/w/deploy/app.yml") && m("/w/deploy/eu/west/app.yml"));
    assert.ok(!m("/w/other/app.yml") && !m("/w/deployx/app.yml"));
  });

  it("treats regular-expression characters in names literally", () => {
    const m = composeFileMatcher(["a+b(1).yml"]);
    assert.ok(m("a+b(1).yml"));
    assert.ok(!m("aab1.yml"));
  });
});
