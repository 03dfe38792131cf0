import * as vscode from "vscode";
import type { LoadDockerfileLanguage } from "./dockerfile-language-loader";
import type { DiagnosticData, DiagnosticSeverity } from "../../../core/dockerfile/dockerfile-language-types";
import { DOCKERFILE_LANGUAGE_ID, toRange } from "./dockerfile-ranges";

/** Typing pauses this long before a Dockerfile is validated again. */
const CHANGE_DEBOUNCE_MS = 300;

const SEVERITIES: Record<DiagnosticSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

/**
 * Problems of open Dockerfiles from dockerfile-utils' validator: on open at
 * once, on change after a pause in typing, cleared on close. Validation is a
 * parse of one file (a millisecond or so for usual sizes),
 * so unlike Vagrantfiles it follows keystrokes, not saves.
 */
export class DockerfileDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DOCKERFILE_LANGUAGE_ID);
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private disposed = false;

  constructor(private readonly language: LoadDockerfileLanguage) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.validate(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    );
    // Opening a Dockerfile may be what activated Hangar (onLanguage): it is open already.
    vscode.workspace.textDocuments.forEach((d) => this.validate(d));
  }

  private schedule(document: vscode.TextDocument): void {
    if (document.languageId !== DOCKERFILE_LANGUAGE_ID) return;
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => this.validate(document), CHANGE_DEBOUNCE_MS),
    );
  }

  private validate(document: vscode.TextDocument): void {
    if (document.languageId !== DOCKERFILE_LANGUAGE_ID || document.isClosed) return;
    this.pending.delete(document.uri.toString());
    void this.language().then((language) => {
      // Validated with the text of the moment; closed meanwhile: nothing to show.
      if (!this.disposed && !document.isClosed) this.collection.set(document.uri, this.toDiagnostics(language.computeDiagnostics(document.getText())));
    });
  }

  private toDiagnostics(found: DiagnosticData[]): vscode.Diagnostic[] {
    return found.map((d) => {
      const diagnostic = new vscode.Diagnostic(toRange(d.range), d.message, SEVERITIES[d.severity]);
      diagnostic.source = d.source;
      if (d.code !== undefined) diagnostic.code = d.code;
      return diagnostic;
    });
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    this.collection.delete(document.uri);
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const d of this.subscriptions) d.dispose();
    this.collection.dispose();
  }
}
