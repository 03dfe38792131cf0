import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * A file shipped beside the code that reads it: next to the source module
 * (`dir` is its __dirname: tests, tsx), or in `folder` of dist/ once
 * bundled (esbuild.mjs copies it there).
 */
export function bundledFile(dir: string, folder: string, name: string): string {
  const here = path.join(dir, name);
  return existsSync(here) ? here : path.join(dir, folder, name);
}
