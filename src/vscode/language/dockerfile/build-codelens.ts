import * as vscode from "vscode";
import { isTrusted, onDidGrantTrust, restrictedLens } from "../../workspace/workspace-trust";

/** "Build Image" at the top of every Dockerfile (file-backed: the build context is its folder); in Restricted Mode, why there is none. */
export class DockerfileBuildCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly trusted = onDidGrantTrust(() => this.changed.fire());

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== "file") return [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (!isTrusted()) return [restrictedLens(top, "no Build Image")];
    return [
      new vscode.CodeLens(top, { title: "$(tools) Build Image", tooltip: "Build an image from this Dockerfile, its folder as the context", command: "hangar.image.build", arguments: [document.uri] }),
    ];
  }

  dispose(): void {
    this.trusted.dispose();
    this.changed.dispose();
  }
}
