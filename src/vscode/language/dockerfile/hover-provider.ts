import * as vscode from "vscode";
import type { LoadDockerfileLanguage } from "./dockerfile-language-loader";
import { fromPosition, toRange } from "./dockerfile-ranges";

/** Thin adapter over DockerfileLanguage.computeHover: instruction and flag docs. */
export class DockerfileHoverProvider implements vscode.HoverProvider {
  constructor(private readonly language: LoadDockerfileLanguage) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const hover = (await this.language()).computeHover(document.getText(), fromPosition(position));
    if (!hover) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(hover.contents), hover.range && toRange(hover.range));
  }
}
