import * as vscode from "vscode";

/** "Build Image" at the top of every Dockerfile (file-backed: the build context is its folder). */
export class DockerfileBuildCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== "file") return [];
    return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: "$(tools) Build Image", tooltip: "Build an image from this Dockerfile, its folder as the context", command: "hangar.image.build", arguments: [document.uri] })];
  }
}
