import * as vscode from "vscode";
import { loadVagrantfile } from "../../../core/vagrantfile/load-vagrantfile";
import type { HangarContext } from "../../hangar-context";
import { isTrusted, onDidGrantTrust, restrictedLens } from "../../workspace/workspace-trust";

/**
 * "Up" above each machine of a Vagrantfile: over its `config.vm.define`, or
 * over `Vagrant.configure` for a single-machine file. Machine names come from
 * evaluating the file (a define in a loop gets one lens per machine), so the
 * lenses appear once Ruby has run; they follow saves, not keystrokes.
 */
export class VagrantfileCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trusted = onDidGrantTrust(() => this.refresh());

  constructor(private readonly hangar: HangarContext) {}

  dispose(): void {
    this.trusted.dispose();
    this.changed.dispose();
  }

  /** Called on save: lenses are recomputed from the saved text. */
  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (document.uri.scheme !== "file" || document.isDirty) return [];
    // Machine names come from running the file: in Restricted Mode, say why there is no Up.
    if (!isTrusted()) return [restrictedLens(new vscode.Range(0, 0, 0, 0), "Vagrantfile not evaluated, no Up")];
    let result;
    try {
      result = await loadVagrantfile(document.uri.fsPath, this.hangar.ruby, process.env, document.getText());
    } catch {
      return []; // diagnostics report why
    }
    return result.machines
      .filter((m) => m.line !== null && m.line <= document.lineCount)
      .map((m) => {
        const line = document.lineAt(m.line! - 1);
        const range = new vscode.Range(line.lineNumber, line.firstNonWhitespaceCharacterIndex, line.lineNumber, line.text.length);
        return new vscode.CodeLens(range, {
          title: `$(play) Up ${m.name}`,
          command: "hangar.machine.up",
          arguments: [document.uri, m.name],
          tooltip: `Bring up machine '${m.name}' in Hangar's embedded emulator`,
        });
      });
  }
}
