import * as vscode from "vscode";
import { composeFileMatcher, DEFAULT_COMPOSE_FILE_PATTERNS } from "../../../core/compose/compose-files";

/** The language id Microsoft's Container Tools use for Compose files too, so themes and snippets that know it apply. */
export const COMPOSE_LANGUAGE_ID = "dockercompose";

export function composeFilePatterns(): string[] {
  const configured = vscode.workspace.getConfiguration("hangar").get<string[]>("compose.filePatterns");
  return Array.isArray(configured) ? configured : [...DEFAULT_COMPOSE_FILE_PATTERNS];
}

let matcher: { key: string; test: (filePath: string) => boolean } | undefined;

/** A file path is a Compose file by the current `hangar.compose.filePatterns`. */
export function isComposeFile(filePath: string): boolean {
  const patterns = composeFilePatterns();
  const key = JSON.stringify(patterns);
  if (matcher?.key !== key) matcher = { key, test: composeFileMatcher(patterns) };
  return matcher.test(filePath);
}

export function isComposeDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === COMPOSE_LANGUAGE_ID || (doc.uri.scheme === "file" && isComposeFile(doc.uri.fsPath));
}

/**
 * package.json's filenamePatterns cover the default names; files that only
 * the user's `hangar.compose.filePatterns` name get the language here, when
 * opened as YAML or plain text (a language the user chose stays).
 */
export class ComposeFileLanguage implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => this.apply(d)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("hangar.compose.filePatterns") && this.applyAll()),
    ];
    this.applyAll();
  }

  private applyAll(): void {
    for (const doc of vscode.workspace.textDocuments) this.apply(doc);
  }

  private apply(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== "file" || !["yaml", "plaintext"].includes(doc.languageId) || !isComposeFile(doc.uri.fsPath)) return;
    void vscode.languages.setTextDocumentLanguage(doc, COMPOSE_LANGUAGE_ID).then(undefined, () => undefined);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
