import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

/**
 * The container runtime script (container-runtime.sh, beside this file in
 * the sources; copied into dist/ by esbuild.mjs), which the default box
 * ships at BOX_RUNTIME_PATH. The engine runs the box's copy when it is this
 * one (same SHA-256), else puts this one in place (guest-runtime.ts).
 */
export const BOX_RUNTIME_PATH = "/usr/lib/hangar/container-runtime";

function scriptFile(): string {
  const here = path.join(__dirname, "container-runtime.sh");
  return existsSync(here) ? here : path.join(__dirname, "runtime", "container-runtime.sh");
}

export const CONTAINER_RUNTIME: string = readFileSync(scriptFile(), "utf8");
export const CONTAINER_RUNTIME_SHA256: string = createHash("sha256").update(CONTAINER_RUNTIME).digest("hex");
