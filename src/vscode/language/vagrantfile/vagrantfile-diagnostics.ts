import * as vscode from "vscode";
import { loadVagrantfile } from "../../../core/vagrantfile/load-vagrantfile";
import type { VagrantfileIssue } from "../../../core/vagrantfile/validate";
import { errorMessage } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";
import { isTrusted, onDidGrantTrust } from "../../workspace/workspace-trust";

export const VAGRANTFILE_LANGUAGE_ID = "vagrantfile";

/** Per document: the latest request, and whether an evaluation is under way. */
interface DocumentRuns {
  latest: number;
  busy: boolean;
  document: vscode.TextDocument;
}

/**
 * Problems of Vagrantfiles, found by evaluating them with real Ruby
 * (loadVagrantfile) when they are opened and saved — never on every
 * keystroke. One evaluation per document at a time; a save during an
 * evaluation makes its result stale, and the latest text is evaluated next.
 * Ruby starts with the first Vagrantfile opened, not at activation.
 */
export class VagrantfileDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("vagrantfile");
  private readonly runs = new Map<string, DocumentRuns>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private disposed = false;

  constructor(private readonly hangar: HangarContext) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.request(d)),
      vscode.workspace.onDidSaveTextDocument((d) => this.request(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
      // Restricted Mode evaluated nothing: once trusted, the open Vagrantfiles are checked.
      onDidGrantTrust(() => vscode.workspace.textDocuments.forEach((d) => this.request(d))),
    );
    // Opening a Vagrantfile is what activates Hangar (onLanguage), so that one
    // is open already: look at open documents once activate() has returned.
    const timer = setTimeout(() => vscode.workspace.textDocuments.forEach((d) => this.request(d)), 0);
    this.subscriptions.push({ dispose: () => clearTimeout(timer) });
  }

  private request(document: vscode.TextDocument): void {
    if (this.disposed || document.languageId !== VAGRANTFILE_LANGUAGE_ID || document.uri.scheme !== "file" || !isTrusted()) return;
    const key = document.uri.toString();
    let runs = this.runs.get(key);
    if (!runs) this.runs.set(key, (runs = { latest: 0, busy: false, document }));
    runs.latest++;
    runs.document = document;
    if (!runs.busy) void this.drain(key, runs);
  }

  private async drain(key: string, runs: DocumentRuns): Promise<void> {
    runs.busy = true;
    try {
      for (;;) {
        const ticket = runs.latest;
        const document = runs.document;
        const diagnostics = await this.evaluate(document);
        // Closed meanwhile (or reopened: a new entry owns the document now).
        if (this.disposed || this.runs.get(key) !== runs) return;
        if (runs.latest === ticket) {
          this.collection.set(document.uri, diagnostics);
          return;
        }
        // Saved again while Ruby ran: this result is stale; evaluate the latest text.
      }
    } finally {
      runs.busy = false;
    }
  }

  private async evaluate(document: vscode.TextDocument): Promise<vscode.Diagnostic[]> {
    const label = vscode.workspace.asRelativePath(document.uri);
    const started = performance.now();
    try {
      const result = await loadVagrantfile(document.uri.fsPath, this.hangar.ruby, process.env, document.getText());
      if (result.output) this.hangar.log.info(`${label} printed:\n${result.output.trimEnd()}`);
      const errors = result.issues.filter((i) => i.severity === "error").length;
      this.hangar.log.info(`Evaluated ${label} in ${(performance.now() - started).toFixed(0)} ms: ${errors} error(s), ${result.issues.length - errors} warning(s).`);
      return result.issues.map((issue) => toDiagnostic(document, issue));
    } catch (err) {
      // Ruby could not start or run at all: say so where the user looks.
      this.hangar.log.error(`Could not evaluate ${label}:`, err);
      const message = `Hangar could not evaluate this Vagrantfile: ${errorMessage(err)}`;
      return [diagnostic(document, 0, message, vscode.DiagnosticSeverity.Error)];
    }
  }

  private forget(document: vscode.TextDocument): void {
    this.runs.delete(document.uri.toString());
    this.collection.delete(document.uri);
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.subscriptions) d.dispose();
    this.runs.clear();
    this.collection.dispose();
  }
}

function toDiagnostic(document: vscode.TextDocument, issue: VagrantfileIssue): vscode.Diagnostic {
  // Several machines made in one loop share lines: name the machine unless the message does.
  const machine = issue.machine && !issue.message.includes(`'${issue.machine}'`) ? ` (machine '${issue.machine}')` : "";
  const severity = issue.severity === "error" ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  return diagnostic(document, issue.line === null ? 0 : issue.line - 1, withoutSourceExcerpt(issue.message) + machine, severity);
}

/**
 * Ruby's syntax errors end with the offending line and a caret under the
 * column: useful in a terminal, misaligned in a proportional font, and the
 * squiggle already marks the line. Drop that excerpt.
 */
function withoutSourceExcerpt(message: string): string {
  const lines = message.split("\n");
  return lines.length >= 3 && /^\s*\^~*\s*$/.test(lines[lines.length - 1]) ? lines.slice(0, -2).join("\n") : message;
}

/** A diagnostic over a whole line (0-based), from its first non-blank character. */
function diagnostic(document: vscode.TextDocument, line: number, message: string, severity: vscode.DiagnosticSeverity): vscode.Diagnostic {
  // Ruby reports "unexpected end-of-input" one line past the end.
  const textLine = document.lineAt(Math.max(0, Math.min(line, document.lineCount - 1)));
  const start = textLine.isEmptyOrWhitespace ? 0 : textLine.firstNonWhitespaceCharacterIndex;
  const d = new vscode.Diagnostic(new vscode.Range(textLine.lineNumber, start, textLine.lineNumber, textLine.text.length), message, severity);
  d.source = "Hangar";
  return d;
}
