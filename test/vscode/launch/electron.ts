// Launcher (b): the same test/vscode/suite in desktop VS Code downloaded by
// @vscode/test-electron — for machines that can reach VS Code's download
// servers (a laptop, a public CI). These machines cannot; use
// `npm run test:vscode` (code-server) there. UI-bridge checks skip here.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { runTests } from "@vscode/test-electron";
import { prepareWorkspace, repoRoot, testsEntry } from "./workspace";
import { homeWithDefaultBox } from "../../system/fixtures/default-box-home";

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(repoRoot, "test", "vscode", "build-tests.mjs")], { stdio: "inherit", cwd: repoRoot });
  const { tmp, workspace } = prepareWorkspace();
  const boxHome = await homeWithDefaultBox();
  await runTests({
    version: process.env.HANGAR_VSCODE_VERSION ?? "1.100.3",
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: testsEntry,
    launchArgs: [workspace, "--disable-extensions", "--disable-workspace-trust", "--skip-welcome", "--user-data-dir", path.join(tmp, "user-data")],
    extensionTestsEnv: { HANGAR_HOME: path.join(tmp, "hangar-home"), HANGAR_TEST_BOX_HOME: boxHome },
  });
}

main().catch((err: unknown) => {
  console.error(`VS Code (electron) tests failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
