// The engine process's environment from the editor's hangar.engine.* settings.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { engineEnvironment } from "../../../../src/core/api/engine-environment";
import { EngineShares } from "../../../../src/core/engine/volumes/engine-shares";

test("unset preferences leave the caller's environment as it is", () => {
  const base = { PATH: "/bin", HANGAR_ENGINE_SHARES: "/srv" };
  assert.deepEqual(engineEnvironment(base, { insecureRegistries: [], shares: [], disk: false, defaultRegistry: " " }), base);
});

test("settings become the variables the engine reads, insecure registries added to the caller's", () => {
  const env = engineEnvironment(
    { HANGAR_INSECURE_REGISTRIES: "a:5000" },
    { insecureRegistries: ["b:5000", "a:5000"], shares: ["/srv/code", " /data "], disk: true, defaultRegistry: "registry.test:5000" },
  );
  assert.equal(env.HANGAR_INSECURE_REGISTRIES, "a:5000,b:5000");
  assert.equal(env.HANGAR_ENGINE_SHARES, ["/srv/code", "/data"].join(path.delimiter));
  assert.equal(env.HANGAR_ENGINE_DISK, "1");
  assert.equal(env.HANGAR_DEFAULT_REGISTRY, "registry.test:5000");
});

test("the shares setting is what the engine's EngineShares reads (a relative path is refused there)", () => {
  assert.deepEqual(EngineShares.fromEnv(engineEnvironment({}, { shares: ["/", "/tmp"] })).roots, ["/"]);
  assert.throws(() => EngineShares.fromEnv(engineEnvironment({}, { shares: ["relative/dir"] })), /not an absolute path/);
});
