import { test } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { resolveHangarHome } from "../../../../src/core/util/hangar-home";

test("the setting wins over HANGAR_HOME, which wins over ~/.hangar", () => {
  assert.equal(resolveHangarHome("/opt/h", { HANGAR_HOME: "/srv/h" }), "/opt/h");
  assert.equal(resolveHangarHome("", { HANGAR_HOME: "/srv/h" }), "/srv/h");
  assert.equal(resolveHangarHome("  ", {}), path.join(os.homedir(), ".hangar"));
  assert.equal(resolveHangarHome(undefined, { HANGAR_HOME: "~/boxes" }), path.join(os.homedir(), "boxes"));
});
