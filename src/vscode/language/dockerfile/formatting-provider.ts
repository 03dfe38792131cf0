import * as vscode from "vscode";
import type { LoadDockerfileLanguage } from "./dockerfile-language-loader";
import { fromRange, toTextEdit } from "./dockerfile-ranges";

/** Format Document and Format Selection, as dockerfile-utils formats (indentation and continuation lines). */
export class DockerfileFormattingProvider implements vscode.DocumentFormattingEditProvider, vscode.DocumentRangeFormattingEditProvider {
  constructor(private readonly language: LoadDockerfileLanguage) {}

  async provideDocumentFormattingEdits(document: vscode.TextDocument, options: vscode.FormattingOptions): Promise<vscode.TextEdit[]> {
    return (await this.language()).computeFormatting(document.getText(), { tabSize: options.tabSize, insertSpaces: options.insertSpaces }).map(toTextEdit);
  }

  async provideDocumentRangeFormattingEdits(document: vscode.TextDocument, range: vscode.Range, options: vscode.FormattingOptions): Promise<vscode.TextEdit[]> {
    return (await this.language()).computeRangeFormatting(document.getText(), fromRange(range), { tabSize: options.tabSize, insertSpaces: options.insertSpaces }).map(toTextEdit);
  }
}
