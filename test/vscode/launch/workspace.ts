import { cpSync, mkdtempSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const repoRoot = path.resolve(__dirname, "..", "..", "..");
export const testsEntry = path.join(repoRoot, "out", "test", "vscode", "suite", "index.js");
export const outputDir = path.join(repoRoot, "test-output");

/** A fresh copy of samples/workspace, so tests may change files without touching the repository. */
export function prepareWorkspace(): { tmp: string; workspace: string } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hangar-vscode-"));
  const workspace = path.join(tmp, "workspace");
  cpSync(path.join(repoRoot, "samples", "workspace"), workspace, { recursive: true });
  return { tmp, workspace };
}
