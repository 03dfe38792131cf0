import * as vscode from "vscode";
import type { CompletionItemData, CompletionKind } from "../../../core/vagrantfile/language/language-types";
import { computeCompletions } from "../../../core/vagrantfile/language/vagrantfile-completion";

/** `.` members, `"` values, `,` and space for keyword options. */
export const VAGRANTFILE_TRIGGER_CHARACTERS = [".", '"', "'", ",", " "];

const KINDS: Record<CompletionKind, vscode.CompletionItemKind> = {
  property: vscode.CompletionItemKind.Property,
  method: vscode.CompletionItemKind.Method,
  value: vscode.CompletionItemKind.Value,
  keyword: vscode.CompletionItemKind.Keyword,
};

/** Thin adapter over computeCompletions: offsets to positions, snippets to SnippetString. */
export class VagrantfileCompletionProvider implements vscode.CompletionItemProvider {
  provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
    const offset = document.offsetAt(position);
    return computeCompletions(document.getText(), offset).map((data) => toCompletionItem(document, position, data));
  }
}

function toCompletionItem(document: vscode.TextDocument, position: vscode.Position, data: CompletionItemData): vscode.CompletionItem {
  const item = new vscode.CompletionItem(data.label, KINDS[data.kind]);
  item.detail = data.detail;
  item.documentation = new vscode.MarkdownString(data.documentation);
  item.insertText = data.isSnippet ? new vscode.SnippetString(data.insertText) : data.insertText;
  item.sortText = data.sortText;
  // Filter on the name even when the label reads `guest:`.
  item.filterText = data.label.replace(/:$/, "");
  const start = document.positionAt(data.range.start);
  // Insert mode replaces what was typed; replace mode (Shift+Enter / setting) the whole word.
  item.range = { inserting: new vscode.Range(start, position), replacing: new vscode.Range(start, document.positionAt(data.range.end)) };
  return item;
}
