import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { activateHangar, workspaceRoot } from "./helpers";
import { queryClasses, queryText, screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

describe("vagrantfile language", () => {
  it("highlights a Vagrantfile with the Hangar grammar (screenshot)", async function () {
    if (!uiBridgeAvailable) this.skip(); // reads the rendered editor
    await activateHangar();
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(workspaceRoot(), "Vagrantfile"));
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, "vagrantfile");
    // Monaco renders each token as a span with an mtkN colour class; a loaded
    // grammar splits `Vagrant.configure("2") do |config|` into several colours.
    const line = ".monaco-editor .view-line";
    await waitForText(line, (lines) => lines.some((l) => l.includes('Vagrant.configure("2")')));
    const classes = await classesOnLine('Vagrant.configure("2")');
    assert.ok(classes.size >= 3, `expected several token colours on the configure line, got ${[...classes].join(" ")}`);
    const commentClasses = await classesOnLine("# A sample project");
    assert.equal(commentClasses.size, 1, "a comment line is one token colour");
    await screenshot("vagrantfile-editor");
  });
});

async function classesOnLine(startsWith: string): Promise<Set<string>> {
  // Monaco renders spaces as no-break spaces.
  const lines = (await queryText(".monaco-editor .view-line")).map((l) => l.replace(/\u00a0/g, " "));
  const index = lines.findIndex((l) => l.trimStart().startsWith(startsWith));
  assert.ok(index >= 0, `no rendered line starts with ${startsWith}`);
  const spans = await queryClasses(`.monaco-editor .view-line:nth-child(${index + 1}) span span`);
  return new Set(spans.flatMap((c) => c.split(/\s+/)).filter((c) => /^mtk\d+$/.test(c)));
}
