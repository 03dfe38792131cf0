import * as vscode from "vscode";
import type { Position, Range, TextEdit } from "../../../core/dockerfile/dockerfile-language-types";

/** The core's LSP-shaped positions are 0-based lines and UTF-16 characters, as VS Code's. */
export const DOCKERFILE_LANGUAGE_ID = "dockerfile";

export function toRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function fromPosition(p: vscode.Position): Position {
  return { line: p.line, character: p.character };
}

export function fromRange(r: vscode.Range): Range {
  return { start: fromPosition(r.start), end: fromPosition(r.end) };
}

export function toTextEdit(e: TextEdit): vscode.TextEdit {
  return new vscode.TextEdit(toRange(e.range), e.newText);
}
