import * as vscode from "vscode";
import { computeHover } from "../../../core/vagrantfile/language/vagrantfile-hover";

/** Thin adapter over computeHover. */
export class VagrantfileHoverProvider implements vscode.HoverProvider {
  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const hover = computeHover(document.getText(), document.offsetAt(position));
    if (!hover) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(hover.contents), new vscode.Range(document.positionAt(hover.range.start), document.positionAt(hover.range.end)));
  }
}
