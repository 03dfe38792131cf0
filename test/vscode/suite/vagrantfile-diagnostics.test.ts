import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import { activateHangar, until, workspaceRoot } from "./helpers";
import { queryClasses, screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

// The first evaluation starts Ruby (a few seconds); later ones take well under one.
const EVALUATION_TIMEOUT_MS = 20_000;

async function diagnosticsWhen(uri: vscode.Uri, pred: (d: vscode.Diagnostic[]) => boolean, what: string): Promise<vscode.Diagnostic[]> {
  await until(
    () => pred(vscode.languages.getDiagnostics(uri)),
    `${what} (now: ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => [d.range.start.line, d.message]))})`,
    EVALUATION_TIMEOUT_MS,
  );
  return vscode.languages.getDiagnostics(uri);
}

/** Writes `<folder>/Vagrantfile` into the workspace; removed by the returned function. */
async function writeVagrantfile(folder: string, lines: string[]): Promise<{ uri: vscode.Uri; remove: () => Promise<void> }> {
  const dir = vscode.Uri.joinPath(workspaceRoot(), folder);
  await fs.mkdir(dir.fsPath, { recursive: true });
  const uri = vscode.Uri.joinPath(dir, "Vagrantfile");
  await fs.writeFile(uri.fsPath, lines.join("\n") + "\n");
  return {
    uri,
    remove: async () => {
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      // Leave no panel (Problems, Output) open for the tests after these.
      await vscode.commands.executeCommand("workbench.action.closePanel");
      await fs.rm(dir.fsPath, { recursive: true, force: true });
    },
  };
}

/** Replaces one line (0-based) of an open document, or all of it, and saves it. */
async function replaceAndSave(doc: vscode.TextDocument, line: number | "all", text: string): Promise<void> {
  const edit = new vscode.WorkspaceEdit();
  const all = new vscode.Range(0, 0, doc.lineCount, 0);
  edit.replace(doc.uri, line === "all" ? all : doc.lineAt(line).range, text);
  assert.ok(await vscode.workspace.applyEdit(edit));
  assert.ok(await doc.save(), "the document should save");
}

describe("Vagrantfile diagnostics, completion and hover", () => {
  it("a Ruby syntax error shows on its line; fixing it and saving clears it (screenshot)", async function () {
    this.timeout(90_000);
    await activateHangar();
    const { uri, remove } = await writeVagrantfile("broken", [
      "# A Vagrantfile with a Ruby syntax error on line 4.",
      'Vagrant.configure("2") do |config|',
      '  config.vm.box = "hangar/debian-busybox"',
      "  config.vm.hostname = )",
      "end",
    ]);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, "vagrantfile");
      await vscode.window.showTextDocument(doc);
      const [d, ...more] = await diagnosticsWhen(uri, (ds) => ds.length > 0, "the syntax error");
      assert.deepEqual(more, []);
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(d.source, "Hangar");
      assert.equal(d.message, "syntax error, unexpected ')'");
      // Line 4 (1-based), from its first non-blank character to its end.
      assert.deepEqual([d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character], [3, 2, 3, "  config.vm.hostname = )".length]);

      if (uiBridgeAvailable) {
        await vscode.commands.executeCommand("workbench.actions.view.problems");
        const rows = await waitForText(".markers-panel .monaco-list-row", (t) => t.some((r) => r.includes("unexpected ')'")));
        assert.ok(
          rows.some((r) => /unexpected '\)'.*Hangar.*\[Ln 4, Col 3\]/.test(r)),
          `Problems rows: ${JSON.stringify(rows)}`,
        );
        // The editor draws the squiggle (a decoration with an error class).
        await until(async () => (await queryClasses(".monaco-editor .squiggly-error")).length > 0, "the error squiggle in the editor");
        console.log(`    screenshot: ${await screenshot("vagrantfile-diagnostics")}`);
      }

      await replaceAndSave(doc, 3, '  config.vm.hostname = "web.local"');
      await diagnosticsWhen(uri, (ds) => ds.length === 0, "the diagnostics to clear after the fix is saved");
    } finally {
      await remove();
    }
  });

  it("an unknown setting is reported on its line with Vagrant's message; the fix clears it", async function () {
    this.timeout(60_000);
    await activateHangar();
    const { uri, remove } = await writeVagrantfile("typo", [
      'Vagrant.configure("2") do |config|',
      '  config.vm.box = "hangar/debian-busybox"',
      '  puts "evaluating the typo Vagrantfile"',
      '  config.vm.boxx = "x"',
      "end",
    ]);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const diagnostics = await diagnosticsWhen(uri, (ds) => ds.length > 0, "the unknown-setting error");
      assert.deepEqual(
        diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.severity, d.message]),
        [[3, 2, vscode.DiagnosticSeverity.Error, "vm: The following settings shouldn't exist: config.vm.boxx"]],
      );
      if (uiBridgeAvailable) {
        // What the Vagrantfile printed goes to the Hangar log.
        await vscode.commands.executeCommand("hangar.showLog");
        await waitForText(".part.panel .view-line", (t) => t.some((l) => l.replace(/\u00a0/g, " ").includes("evaluating the typo Vagrantfile")));
      }
      // Two saves in a row: the second text wins, whatever the first evaluation returns.
      await replaceAndSave(doc, 3, '  config.vm.boxxx = "x"');
      await replaceAndSave(doc, 3, '  config.vm.hostname = "x"');
      await diagnosticsWhen(uri, (ds) => ds.length === 0, "the diagnostics to clear after the fix is saved");
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(vscode.languages.getDiagnostics(uri), [], "a stale evaluation must not bring the error back");
    } finally {
      await remove();
    }
  });

  it("the sample workspace's Vagrantfile evaluates without errors", async function () {
    this.timeout(60_000);
    await activateHangar();
    const uri = vscode.Uri.joinPath(workspaceRoot(), "Vagrantfile");
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const original = doc.getText();
    // An empty list is also what an unevaluated file has: break the file
    // first and see the error, then restore it; the error disappears only
    // once the original text has been evaluated.
    try {
      await replaceAndSave(doc, "all", `${original}\nconfig.vm.box = (\n`);
      await diagnosticsWhen(uri, (ds) => ds.some((d) => d.severity === vscode.DiagnosticSeverity.Error), "an error in the broken copy");
      await replaceAndSave(doc, "all", original);
      assert.equal(doc.getText(), original);
      const diagnostics = await diagnosticsWhen(uri, (ds) => !ds.some((d) => d.severity === vscode.DiagnosticSeverity.Error), "the sample's own evaluation");
      assert.deepEqual(
        diagnostics.map((d) => d.message),
        [],
      );
    } finally {
      if (doc.getText() !== original) {
        await fs.writeFile(uri.fsPath, original);
        await vscode.commands.executeCommand("workbench.action.files.revert");
      }
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    }
  });

  it("completion offers box after config.vm., and hover on box shows its doc", async () => {
    await activateHangar();
    const uri = vscode.Uri.joinPath(workspaceRoot(), "Vagrantfile");
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = doc
      .getText()
      .split("\n")
      .findIndex((l) => l.trim().startsWith("config.vm.box ="));
    assert.ok(line >= 0, "the sample sets config.vm.box");
    const afterDot = doc.lineAt(line).text.indexOf("config.vm.") + "config.vm.".length;

    const list = await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", uri, new vscode.Position(line, afterDot));
    const box = list.items.find((i) => i.label === "box");
    assert.ok(box, `completion items: ${list.items.map((i) => (typeof i.label === "string" ? i.label : i.label.label)).join(", ")}`);
    assert.equal(box.kind, vscode.CompletionItemKind.Property);
    assert.match(box.documentation instanceof vscode.MarkdownString ? box.documentation.value : String(box.documentation), /Name of the box/);
    assert.ok(list.items.some((i) => i.label === "provision" && i.kind === vscode.CompletionItemKind.Method));

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", uri, new vscode.Position(line, afterDot + 1));
    const text = hovers.flatMap((h) => h.contents.map((c) => (c instanceof vscode.MarkdownString ? c.value : typeof c === "string" ? c : c.value))).join("\n");
    assert.match(text, /config\.vm\.box/);
    assert.match(text, /Name of the box the machine is created from/);
    const range = hovers.find((h) => h.range)?.range;
    assert.deepEqual(range && [range.start.character, range.end.character], [afterDot, afterDot + "box".length]);
  });

  it("completion in a provider block offers provider settings, and snippets for vm methods", async () => {
    await activateHangar();
    const doc = await vscode.workspace.openTextDocument({
      language: "vagrantfile",
      content: ['Vagrant.configure("2") do |config|', '  config.vm.provider "virtualbox" do |vb|', "    vb.", "  end", "  config.vm.", "end", ""].join("\n"),
    });
    const labels = async (line: number, character: number): Promise<vscode.CompletionItem[]> =>
      (await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", doc.uri, new vscode.Position(line, character), ".")).items;
    const inProvider = await labels(2, "    vb.".length);
    assert.ok(inProvider.some((i) => i.label === "memory"));
    assert.ok(!inProvider.some((i) => i.label === "box"), "vm settings must not be offered for a provider block's parameter");
    const vm = await labels(4, "  config.vm.".length);
    const network = vm.find((i) => i.label === "network");
    assert.ok(network?.insertText instanceof vscode.SnippetString, "vm methods insert snippets");
    assert.match(network.insertText.value, /^network "\$\{1\|forwarded_port/);
  });
});
