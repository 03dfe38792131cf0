import * as path from "node:path";
import { INSECURE_REGISTRIES_ENV, insecureRegistries } from "../engine/registry/registry-client";
import { SHARES_ENV } from "../engine/volumes/engine-shares";

/** What a user tunes about the engine process (the editor's settings); every field empty or unset leaves `base` as it is. */
export interface EnginePreferences {
  /** Registries allowed over plain http, added to those `base` lists. */
  insecureRegistries?: string[];
  /** Host folders the engine machine sees for bind mounts (an empty list: the default, home and the temporary folder). */
  shares?: string[];
  /** Images and containers on the engine machine's disk instead of its memory. */
  disk?: boolean;
  /** Where names without a registry go. */
  defaultRegistry?: string;
}

/**
 * The engine process's environment: `base` (the caller's, so a
 * HANGAR_ENGINE_SHARES exported in a shell still counts) with the
 * preferences set over it — these variables are how engine-main.ts and
 * the engine machine read them.
 */
export function engineEnvironment(base: NodeJS.ProcessEnv, prefs: EnginePreferences): NodeJS.ProcessEnv {
  const env = { ...base };
  const insecure = [...new Set([...insecureRegistries(base), ...(prefs.insecureRegistries ?? [])])];
  if (insecure.length) env[INSECURE_REGISTRIES_ENV] = insecure.join(",");
  const shares = (prefs.shares ?? []).map((s) => s.trim()).filter(Boolean);
  if (shares.length) env[SHARES_ENV] = shares.join(path.delimiter);
  if (prefs.disk) env.HANGAR_ENGINE_DISK = "1";
  const registry = prefs.defaultRegistry?.trim();
  if (registry) env.HANGAR_DEFAULT_REGISTRY = registry;
  return env;
}
