import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { bundledFile } from "../../util/bundled-file";

/**
 * The container runtime script (container-runtime.sh, beside this file in
 * the sources; copied into dist/ by esbuild.mjs), which the default box
 * ships at BOX_RUNTIME_PATH. The engine runs the box's copy when it is this
 * one (same SHA-256), else puts this one in place (guest-runtime.ts).
 */
export const BOX_RUNTIME_PATH = "/usr/lib/hangar/container-runtime";

export const CONTAINER_RUNTIME: string = readFileSync(bundledFile(__dirname, "runtime", "container-runtime.sh"), "utf8");
export const CONTAINER_RUNTIME_SHA256: string = createHash("sha256").update(CONTAINER_RUNTIME).digest("hex");
