import * as vscode from "vscode";

/** Compose Up / Down / Restart / Logs above a Compose file's first line. */
export class ComposeCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.lineCount === 0 || !document.getText().trim()) return [];
    const range = new vscode.Range(0, 0, 0, 0);
    const lens = (title: string, command: string, tooltip: string): vscode.CodeLens => new vscode.CodeLens(range, { title, command, tooltip, arguments: [document.uri] });
    return [
      lens("$(run-all) Compose Up", "hangar.compose.up", "docker compose up -d with this file"),
      lens("$(debug-stop) Down", "hangar.compose.down", "docker compose down with this file"),
      lens("$(debug-restart) Restart", "hangar.compose.restart", "docker compose restart with this file"),
      lens("$(output) Logs", "hangar.compose.logs", "docker compose logs -f with this file"),
    ];
  }
}
