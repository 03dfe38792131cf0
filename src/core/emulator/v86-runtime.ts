import { existsSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { V86 as V86Class } from "v86" with { "resolution-mode": "import" };
import { HangarError } from "../util/errors";

/**
 * Where the v86 runtime (its ESM build and wasm) lives. The build copies both
 * into `dist/v86/`, beside the bundles, so a packaged extension or CLI needs no
 * node_modules; from sources (tests, tsx) the npm package is used directly.
 */
export interface V86Runtime {
  moduleFile: string;
  wasmFile: string;
}

export function locateV86Runtime(searchFrom: string = __dirname): V86Runtime {
  const candidates = [
    path.join(searchFrom, "v86"), // dist/v86 next to dist/extension.js or dist/cli.js
    path.resolve(searchFrom, "..", "..", "..", "node_modules", "v86", "build"), // src/core/emulator → repo root
    path.resolve(searchFrom, "..", "node_modules", "v86", "build"),
  ];
  for (const dir of candidates) {
    const moduleFile = path.join(dir, "libv86.mjs");
    const wasmFile = path.join(dir, "v86.wasm");
    if (existsSync(moduleFile) && existsSync(wasmFile)) return { moduleFile, wasmFile };
  }
  throw new HangarError(`The v86 emulator runtime was not found (looked in ${candidates.join(", ")}).`, "Run `npm run build` (or reinstall Hangar).");
}

/**
 * Loads the V86 constructor. v86 ships as ESM only (`require` of its build
 * returns `{}`), so it is imported dynamically by file URL; the bundler keeps
 * this as a runtime `import()` because the specifier is computed.
 */
export async function loadV86(runtime: V86Runtime = locateV86Runtime()): Promise<typeof V86Class> {
  const mod = (await import(pathToFileURL(runtime.moduleFile).href)) as { V86: typeof V86Class };
  if (typeof mod.V86 !== "function") throw new HangarError(`${runtime.moduleFile} does not export V86.`, "Reinstall Hangar; the emulator runtime is damaged.");
  return mod.V86;
}
