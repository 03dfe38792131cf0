import * as vscode from "vscode";

export const INSPECT_SCHEME = "hangar-inspect";

/**
 * Read-only JSON documents for "Inspect": the API's answer, pretty-printed,
 * kept in memory by URI (a document provider's documents cannot be edited).
 */
export class InspectDocuments implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? "{}";
  }

  /** Shows `value` as `<kind>/<name>.json`, replacing what an earlier inspect of it showed. */
  async show(kind: "image" | "container" | "network" | "volume", name: string, value: unknown): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: INSPECT_SCHEME, path: `/${kind}/${name.replace(/[/\\:]+/g, "_")}.json` });
    this.docs.set(uri.toString(), `${JSON.stringify(value, null, 2)}\n`);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, "json");
    return vscode.window.showTextDocument(doc, { preview: true });
  }
}
