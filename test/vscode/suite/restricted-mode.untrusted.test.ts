// Restricted Mode (issue 14, hole 8). The launcher runs this file alone, in a
// code-server with workspace trust on and this folder untrusted. A Vagrantfile
// is Ruby with the whole file system: here Hangar must show its views and
// grammar, evaluate no Vagrantfile, build or start nothing, and say why —
// then, once the user trusts the folder, do all of it without a reload.
import * as assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { activateHangar, until, workspaceRoot } from "./helpers";
import { click, uiBridgeAvailable, waitForText } from "./ui-bridge";

const HOSTILE = `# Evaluating this file leaves a mark, then fails loudly.
File.write(File.join(__dir__, "evaluated.txt"), "Ruby ran") rescue nil
raise "this Vagrantfile was evaluated"
`;

async function lenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri, 10)) ?? [];
}

async function logText(dir: vscode.Uri): Promise<string> {
  const files = await fs.readdir(dir.fsPath).catch(() => [] as string[]);
  return (await Promise.all(files.map((f) => fs.readFile(path.join(dir.fsPath, f), "utf8").catch(() => "")))).join("\n");
}

const hangarDiagnostics = (uri: vscode.Uri): vscode.Diagnostic[] => vscode.languages.getDiagnostics(uri).filter((d) => d.source === "Hangar");

describe("Restricted Mode (untrusted workspace)", function () {
  this.timeout(120_000);
  const root = workspaceRoot();
  const sample = vscode.Uri.joinPath(root, "Vagrantfile");
  const hostile = vscode.Uri.joinPath(root, "hostile", "Vagrantfile");
  const marker = path.join(root.fsPath, "hostile", "evaluated.txt");
  const dockerfile = vscode.Uri.joinPath(root, "Dockerfile");

  before(async () => {
    await fs.mkdir(path.dirname(hostile.fsPath), { recursive: true });
    await fs.writeFile(hostile.fsPath, HOSTILE);
  });

  it("runs untrusted, and Hangar activates with its views", async () => {
    assert.equal(vscode.workspace.isTrusted, false, "the launcher opens this folder untrusted");
    const api = await activateHangar();
    assert.deepEqual(Object.keys(api.views).sort(), [
      "hangar.boxes",
      "hangar.containers",
      "hangar.contexts",
      "hangar.images",
      "hangar.machines",
      "hangar.networks",
      "hangar.registries",
      "hangar.volumes",
    ]);
    // The Machines view says why it lists no machines, and where trust is managed.
    const roots = await api.machinesTree.getChildren();
    const items = roots.length === 1 ? roots : (await Promise.all(roots.map((r) => api.machinesTree.getChildren(r)))).flat();
    const restricted = items.find((i) => i.label === "Restricted Mode: Vagrantfile not evaluated");
    assert.ok(restricted, `a Restricted Mode item; got ${JSON.stringify(items.map((i) => i.label))}`);
    assert.equal(restricted.command?.command, "workbench.trust.manage");
  });

  it("evaluates no Vagrantfile: no diagnostics, no Up lens, nothing run", async () => {
    const doc = await vscode.workspace.openTextDocument(hostile);
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, "vagrantfile", "the grammar and language still apply");
    const sampleDoc = await vscode.workspace.openTextDocument(sample);
    await vscode.window.showTextDocument(sampleDoc, { preview: false });
    // Trusted, Ruby answers within a few seconds (the sample's lenses, the hostile file's error): give it more.
    await new Promise((r) => setTimeout(r, 6000));
    assert.deepEqual(hangarDiagnostics(hostile), [], "no diagnostics from evaluating the hostile Vagrantfile");
    assert.equal(existsSync(marker), false, "the hostile Vagrantfile did not run");
    const found = await lenses(sample);
    assert.ok(!found.some((l) => l.command?.command === "hangar.machine.up"), "no Up lens");
    assert.deepEqual(
      found.map((l) => [l.command?.title, l.command?.command]),
      [["$(workspace-untrusted) Restricted Mode: Vagrantfile not evaluated, no Up", "workbench.trust.manage"]],
    );
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(dockerfile), { preview: false });
    const dockerLenses = await lenses(dockerfile);
    assert.deepEqual(
      dockerLenses.map((l) => l.command?.command),
      ["workbench.trust.manage"],
      "no Build Image lens",
    );
  });

  it("refuses to start a machine or a build from the workspace, saying Restricted Mode", async () => {
    const api = await activateHangar();
    assert.equal(await vscode.commands.executeCommand("hangar.machine.up", sample, "web"), undefined);
    assert.equal(await vscode.commands.executeCommand("hangar.image.build", dockerfile, { tag: "restricted:test" }), undefined);
    await until(
      async () => {
        const log = await logText(api.logUri);
        return (
          /hangar\.machine\.up: Running machine commands from a workspace Vagrantfile is off in Restricted Mode/.test(log) &&
          /hangar\.image\.build: Building an image from this workspace is off in Restricted Mode/.test(log)
        );
      },
      "both refusals in Hangar's log",
      15_000,
    );
    if (uiBridgeAvailable) await waitForText(".notifications-toasts .notification-list-item-message", (t) => t.some((x) => x.includes("is off in Restricted Mode")));
    assert.equal(existsSync(path.join(root.fsPath, ".hangar")), false, "no machine state was written");
  });

  it("once the folder is trusted, evaluates and offers Up without a reload", async function () {
    if (!uiBridgeAvailable) return this.skip();
    await vscode.commands.executeCommand("workbench.trust.manage");
    // The Workspace Trust editor of an untrusted folder: its first button is "Trust".
    await click(".workspace-trust-editor .workspace-trust-buttons-row .monaco-button");
    await until(() => vscode.workspace.isTrusted, "the workspace to become trusted", 15_000);
    let found: vscode.CodeLens[] = [];
    await until(
      async () => {
        found = await lenses(sample);
        return found.filter((l) => l.command?.command === "hangar.machine.up").length === 2;
      },
      () => `the Up lenses; got ${JSON.stringify(found.map((l) => l.command?.title))}`,
      30_000,
    );
    await until(() => hangarDiagnostics(hostile).some((d) => d.message.includes("this Vagrantfile was evaluated")), "the hostile Vagrantfile's error, now that it is evaluated", 30_000);
  });
});
