// Entry point VS Code calls in its extension host (`extensionTestsPath`):
// the same contract under both launchers (code-server in chromium, and
// @vscode/test-electron). Runs every *.test.js beside this file with mocha.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import Mocha from "mocha";

export async function run(): Promise<void> {
  console.log(`Running Hangar's VS Code tests in ${vscode.env.appName} ${vscode.version} (uiKind ${vscode.UIKind[vscode.env.uiKind]}, remote ${vscode.env.remoteName ?? "none"}).`);
  const mocha = new Mocha({ ui: "bdd", color: false, timeout: 60_000, reporter: "spec" });
  // *.untrusted.test.js need workspace trust on and the folder untrusted: the launcher runs them in a launch of their own (HANGAR_VSCODE_UNTRUSTED).
  const untrusted = process.env.HANGAR_VSCODE_UNTRUSTED === "1";
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith(".test.js") && f.endsWith(".untrusted.test.js") === untrusted)
    .sort();
  for (const file of files) mocha.addFile(path.join(__dirname, file));
  // HANGAR_VSCODE_GREP runs only the matching tests, for working on one suite.
  if (process.env.HANGAR_VSCODE_GREP) mocha.grep(process.env.HANGAR_VSCODE_GREP);
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((failed) => resolve(failed));
    runner.on("end", () => {
      const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats ?? {};
      // A plain closing line that CI reads, whatever the reporter prints.
      console.log(`vscode: ${passes} passed, ${failed} failed, ${pending} skipped`);
    });
  });
  if (failures > 0) throw new Error(`${failures} VS Code test(s) failed.`);
  if (!files.length) throw new Error("No VS Code tests were found.");
}
