import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { activateHangar, until, workspaceRoot } from "./helpers";

describe("Vagrantfile Up lenses", () => {
  it("puts an Up lens over each machine's define, one per machine of a loop", async () => {
    await activateHangar();
    const uri = vscode.Uri.joinPath(workspaceRoot(), "Vagrantfile");
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    let lenses: vscode.CodeLens[] = [];
    // The first evaluation starts Ruby; lenses appear when it answers.
    await until(
      async () => {
        lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri, 10)) ?? [];
        return lenses.length >= 2;
      },
      "the Up lenses of the sample Vagrantfile",
      30_000,
    );
    // samples/workspace defines web and db in one loop, at line 12.
    const defineLine = doc
      .getText()
      .split("\n")
      .findIndex((l) => l.includes("config.vm.define name"));
    assert.deepEqual(
      lenses.map((l) => [l.range.start.line, l.command?.title, l.command?.command, l.command?.arguments?.[1]]),
      [
        [defineLine, "$(play) Up web", "hangar.machine.up", "web"],
        [defineLine, "$(play) Up db", "hangar.machine.up", "db"],
      ],
    );
    assert.equal((lenses[0].command?.arguments?.[0] as vscode.Uri).fsPath, uri.fsPath);
  });
});
