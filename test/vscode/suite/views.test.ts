import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { activateHangar, until, workspaceRoot } from "./helpers";
import { queryText, screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

const VIEW_NAMES = ["Boxes", "Machines", "Images", "Containers", "Registries"];
const SIDEBAR = ".part.sidebar";

describe("Hangar views", () => {
  it("Open Vagrantfile opens the workspace's Vagrantfile", async () => {
    await activateHangar();
    const opened = await vscode.commands.executeCommand<vscode.Uri>("hangar.vagrantfile.open");
    assert.equal(opened?.fsPath, vscode.Uri.joinPath(workspaceRoot(), "Vagrantfile").fsPath);
    assert.equal(vscode.window.activeTextEditor?.document.languageId, "vagrantfile");
  });

  it("the Hangar container shows its five views", async () => {
    const api = await activateHangar();
    await vscode.commands.executeCommand("workbench.view.extension.hangar");
    // Networks, Volumes and Contexts start collapsed (contributes.views visibility).
    const collapsed = ["hangar.networks", "hangar.volumes", "hangar.contexts"];
    await until(() => Object.entries(api.views).every(([id, v]) => v.visible || collapsed.includes(id)), "all five Hangar views to be visible");
    assert.deepEqual(Object.keys(api.views), ["hangar.boxes", "hangar.machines", "hangar.images", "hangar.containers", "hangar.registries", ...collapsed]);
  });

  it("the sidebar renders the five views with their welcome content (screenshot)", async function () {
    if (!uiBridgeAvailable) this.skip(); // needs the code-server launcher's page access
    await vscode.commands.executeCommand("workbench.view.extension.hangar");
    const titles = await waitForText(`${SIDEBAR} .pane-header h3.title`, (t) => VIEW_NAMES.every((n) => t.includes(n)));
    assert.deepEqual(
      titles.filter((t) => VIEW_NAMES.includes(t)),
      VIEW_NAMES,
    );
    // samples/workspace has a Vagrantfile and a Dockerfile: the welcome content offers to open them.
    const welcome = (await waitForText(`${SIDEBAR} .welcome-view-content`, (t) => t.join(" ").includes("Open Dockerfile"))).join("\n");
    assert.match(welcome, /No boxes yet/);
    assert.doesNotMatch(welcome, /Create Vagrantfile/);
    // The Machines view lists the sample Vagrantfile's machines (no welcome content).
    const rows = await waitForText(`${SIDEBAR} .monaco-list-row`, (t) => t.some((r) => /web\s*not created/.test(r)) && t.some((r) => /db\s*not created/.test(r)), 30_000);
    assert.ok(rows.length >= 2);
    assert.match(welcome, /No containers/);
    assert.match(welcome, /No registries yet/);
    const file = await screenshot("hangar-sidebar", SIDEBAR);
    console.log(`    screenshot: ${file}`);
    await screenshot("hangar-window");
  });

  it("the Boxes view lists the boxes in hangar.home", async function () {
    if (!uiBridgeAvailable) this.skip();
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-vscode-home-"));
    const boxDir = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox", "0.1.0", "embedded");
    await fs.mkdir(boxDir, { recursive: true });
    await fs.writeFile(path.join(boxDir, "metadata.json"), '{"provider":"embedded"}');
    const config = vscode.workspace.getConfiguration("hangar");
    await config.update("home", home, vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      await vscode.commands.executeCommand("hangar.boxes.refresh");
      const rows = await waitForText(`${SIDEBAR} [id="workbench.view.extension.hangar"] .monaco-list-row, ${SIDEBAR} .monaco-list-row`, (t) => t.some((r) => r.includes("hangar/debian-busybox")));
      assert.ok(
        rows.some((r) => /hangar\/debian-busybox.*0\.1\.0 · embedded/.test(r)),
        `rows: ${JSON.stringify(rows)}`,
      );
      await screenshot("hangar-boxes");
    } finally {
      await config.update("home", undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand("hangar.boxes.refresh");
      await fs.rm(home, { recursive: true, force: true });
    }
    // Back to the empty store: the welcome content returns.
    await waitForText(`${SIDEBAR} .welcome-view-content`, (t) => t.join(" ").includes("No boxes yet"));
    assert.ok(!(await queryText(`${SIDEBAR} .monaco-list-row`)).some((r) => r.includes("hangar/debian-busybox")));
  });

  it("Create Dockerfile writes a starter Dockerfile and opens it; an existing one is never overwritten", async () => {
    await activateHangar();
    const dockerfile = vscode.Uri.joinPath(workspaceRoot(), "Dockerfile");
    const original = await fs.readFile(dockerfile.fsPath, "utf8");
    await vscode.commands.executeCommand("hangar.dockerfile.create");
    assert.equal(await fs.readFile(dockerfile.fsPath, "utf8"), original, "an existing Dockerfile must be left as it was");
    await fs.rm(dockerfile.fsPath);
    try {
      if (uiBridgeAvailable) {
        // The Images view follows the file system: without a Dockerfile it offers to create one.
        await vscode.commands.executeCommand("workbench.view.extension.hangar");
        await waitForText(`${SIDEBAR} .welcome-view-content`, (t) => t.join(" ").includes("Create Dockerfile"));
      }
      await vscode.commands.executeCommand("hangar.dockerfile.create");
      const created = await fs.readFile(dockerfile.fsPath, "utf8");
      assert.match(created, /^FROM busybox:latest$/m);
      assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, dockerfile.fsPath);
    } finally {
      await fs.writeFile(dockerfile.fsPath, original);
    }
  });
});
