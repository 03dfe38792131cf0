import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { activateHangar, until } from "./helpers";
import { queryClasses, screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

const labelOf = (i: vscode.CompletionItem): string => (typeof i.label === "string" ? i.label : i.label.label);

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (c instanceof vscode.MarkdownString ? c.value : typeof c === "string" ? c : c.value))).join("\n");
}

function diagnosticsNow(uri: vscode.Uri): string {
  return JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => [d.range.start.line, d.message]));
}

/**
 * A temporary folder of files, outside the workspace: a Dockerfile inside it
 * would count as the workspace's (hangar.hasDockerfile), and a folder deleted
 * as a whole is not reported per file. The returned function closes editors
 * and removes the folder.
 */
async function writeFiles(folder: string, files: Record<string, string>): Promise<{ dir: vscode.Uri; remove: () => Promise<void> }> {
  const dir = vscode.Uri.file(await fs.mkdtemp(path.join(os.tmpdir(), `hangar-${folder}-`)));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(vscode.Uri.joinPath(dir, name).fsPath, text);
  return {
    dir,
    remove: async () => {
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      await vscode.commands.executeCommand("workbench.action.closePanel");
      await fs.rm(dir.fsPath, { recursive: true, force: true });
    },
  };
}

describe("dockerfile language", () => {
  it("dockerfile: an unknown instruction is reported on its line; the fix clears it as you type (screenshot)", async function () {
    this.timeout(60_000);
    await activateHangar();
    const { dir, remove } = await writeFiles("dockerfile-bad", { Dockerfile: "FROM busybox:latest\nRUN echo hi\nFOO bar\n\n" });
    try {
      const uri = vscode.Uri.joinPath(dir, "Dockerfile");
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.equal(doc.languageId, "dockerfile");
      const editor = await vscode.window.showTextDocument(doc);
      await until(
        () => vscode.languages.getDiagnostics(uri).length > 0,
        () => `the unknown-instruction diagnostic (now ${diagnosticsNow(uri)})`,
      );
      const diagnostics = vscode.languages.getDiagnostics(uri);
      assert.deepEqual(
        diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.character, d.severity, d.message, d.source]),
        [[2, 0, 3, vscode.DiagnosticSeverity.Error, "Unknown instruction: FOO", "dockerfile-utils"]],
      );

      if (uiBridgeAvailable) {
        await until(async () => (await queryClasses(".monaco-editor .squiggly-error")).length > 0, "the error squiggle in the editor");
        // The suggest widget on the empty last line, beside the squiggle.
        editor.selection = new vscode.Selection(3, 0, 3, 0);
        await vscode.commands.executeCommand("editor.action.triggerSuggest");
        // The list renders only its visible rows (ADD … LABEL): RUN is further down.
        const rows = await waitForText(".suggest-widget .monaco-list-row", (t) => t.some((r) => r.startsWith("COPY")));
        assert.ok(
          rows.some((r) => r.startsWith("FROM")),
          `suggestions: ${JSON.stringify(rows)}`,
        );
        console.log(`    screenshot: ${await screenshot("dockerfile-diagnostics-completion")}`);
        await vscode.commands.executeCommand("hideSuggestWidget");
      }

      // Not saved: diagnostics follow the text (after a short pause in typing).
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, doc.lineAt(2).range, "RUN true");
      assert.ok(await vscode.workspace.applyEdit(edit));
      await until(
        () => vscode.languages.getDiagnostics(uri).length === 0,
        () => `the diagnostics to clear after the fix (now ${diagnosticsNow(uri)})`,
      );
      await vscode.commands.executeCommand("workbench.action.files.revert");
    } finally {
      await remove();
    }
  });

  it("dockerfile: completion offers FROM, then image names after FROM; hover on RUN shows its docs", async () => {
    await activateHangar();
    const doc = await vscode.workspace.openTextDocument({ language: "dockerfile", content: "FROM busybox:latest\nRUN echo hi\n\nFROM \n" });
    const complete = async (line: number, character: number): Promise<vscode.CompletionItem[]> =>
      (await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", doc.uri, new vscode.Position(line, character))).items;

    const instructions = (await complete(2, 0)).map(labelOf);
    for (const k of ["FROM", "RUN", "COPY"])
      assert.ok(
        instructions.some((l) => l.startsWith(`${k} `)),
        `${k} in ${instructions.join(", ")}`,
      );
    const images = (await complete(3, 5)).filter((i) => i.kind === vscode.CompletionItemKind.Module).map(labelOf);
    // The built-in names come last; an image the engine of the box home already has (busybox) is listed once, first.
    for (const name of ["debian:bookworm", "debian:bookworm-slim", "busybox:latest", "scratch"]) assert.ok(images.includes(name), `${name} in ${images.join(", ")}`);
    assert.equal(images[images.length - 1], "scratch");
    assert.equal(new Set(images).size, images.length, "no name twice");

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", doc.uri, new vscode.Position(1, 1));
    assert.match(hoverText(hovers), /Execute any commands on top of the current image as a new layer/);
    const none = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", doc.uri, new vscode.Position(1, 6));
    assert.doesNotMatch(hoverText(none), /Execute any commands/, "a shell word has no instruction doc");
  });

  it("dockerfile: Format Document fixes indentation as dockerfile-utils does", async () => {
    await activateHangar();
    const doc = await vscode.workspace.openTextDocument({ language: "dockerfile", content: "  from busybox\n   RUN echo hi && \\\necho there\n" });
    const edits = await vscode.commands.executeCommand<vscode.TextEdit[]>("vscode.executeFormatDocumentProvider", doc.uri, { tabSize: 4, insertSpaces: true });
    assert.ok(edits && edits.length > 0, "formatting edits");
    const edit = new vscode.WorkspaceEdit();
    edit.set(doc.uri, edits);
    assert.ok(await vscode.workspace.applyEdit(edit));
    // Keyword case is left alone (the validator warns about it instead).
    assert.equal(doc.getText(), "from busybox\nRUN echo hi && \\\n    echo there\n");
    const ranged = await vscode.commands.executeCommand<vscode.TextEdit[]>("vscode.executeFormatRangeProvider", doc.uri, new vscode.Range(0, 0, 0, 3), { tabSize: 4, insertSpaces: true });
    assert.deepEqual(ranged ?? [], [], "an already formatted line needs no edit");
  });

  it("dockerfile: Containerfile, Dockerfile.* and *.dockerfile open as Dockerfiles", async () => {
    await activateHangar();
    const names = ["Containerfile", "Dockerfile.dev", "web.dockerfile"];
    const { dir, remove } = await writeFiles("dockerfile-names", Object.fromEntries(names.map((n) => [n, "FROM scratch\n"])));
    try {
      for (const name of names) assert.equal((await vscode.workspace.openTextDocument(vscode.Uri.joinPath(dir, name))).languageId, "dockerfile", name);
    } finally {
      await remove();
    }
  });
});
