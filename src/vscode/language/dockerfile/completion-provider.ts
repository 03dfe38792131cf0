import * as vscode from "vscode";
import type { LoadDockerfileLanguage } from "./dockerfile-language-loader";
import type { CompletionItemData, CompletionKind } from "../../../core/dockerfile/dockerfile-language-types";
import { fromPosition, toRange } from "./dockerfile-ranges";

/** Space after FROM (image names) or a keyword, `$` for variables, `-` for flags. */
export const DOCKERFILE_TRIGGER_CHARACTERS = [" ", "$", "-"];

const KINDS: Record<CompletionKind, vscode.CompletionItemKind> = {
  keyword: vscode.CompletionItemKind.Keyword,
  flag: vscode.CompletionItemKind.Property,
  variable: vscode.CompletionItemKind.Variable,
  image: vscode.CompletionItemKind.Module,
  text: vscode.CompletionItemKind.Text,
};

/** Thin adapter over DockerfileLanguage.computeCompletions. */
export class DockerfileCompletionProvider implements vscode.CompletionItemProvider {
  constructor(private readonly language: LoadDockerfileLanguage) {}

  async provideCompletionItems(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.CompletionItem[]> {
    const items = await (await this.language()).computeCompletions(document.getText(), fromPosition(position));
    return items.map(toCompletionItem);
  }
}

function toCompletionItem(data: CompletionItemData): vscode.CompletionItem {
  const item = new vscode.CompletionItem(data.label, KINDS[data.kind]);
  item.insertText = data.isSnippet ? new vscode.SnippetString(data.insertText) : data.insertText;
  item.range = toRange(data.range);
  item.detail = data.detail;
  if (data.documentation) item.documentation = new vscode.MarkdownString(data.documentation);
  item.sortText = data.sortText;
  return item;
}
