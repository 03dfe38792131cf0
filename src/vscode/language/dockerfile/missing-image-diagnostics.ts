import * as vscode from "vscode";
import { builtinImageName } from "../../../core/engine/images/builtin-images";
import { fromImages } from "../../../core/dockerfile/from-images";
import { familiarString, parseReference, withDefaultTag } from "../../../core/engine/images/image-reference";
import { DOCKERFILE_LANGUAGE_ID } from "./dockerfile-ranges";

export const MISSING_IMAGE_CODE = "hangar.missingImage";
const CHANGE_DEBOUNCE_MS = 500;

/** "busybox", "busybox:latest" and "library/busybox:latest" are one image. */
export function normaliseRef(name: string): string | undefined {
  try {
    return familiarString(withDefaultTag(parseReference(name)));
  } catch {
    return undefined;
  }
}

/**
 * A warning on each FROM image the embedded engine does not have (it pulls
 * only its built-in images), with quick fixes to build or load it. Asked
 * only of a running embedded engine: never started for this, and quiet for
 * other endpoints, which pull what they lack.
 */
export class MissingImageDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  private readonly collection = vscode.languages.createDiagnosticCollection("hangar-images");
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly imageNames: () => Promise<string[] | undefined>) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => void this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
      vscode.languages.registerCodeActionsProvider({ language: DOCKERFILE_LANGUAGE_ID }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
    vscode.workspace.textDocuments.forEach((d) => void this.check(d));
  }

  /** Re-checks open Dockerfiles (images changed, or the endpoint did). */
  recheck(): void {
    vscode.workspace.textDocuments.forEach((d) => void this.check(d));
  }

  private schedule(document: vscode.TextDocument): void {
    if (document.languageId !== DOCKERFILE_LANGUAGE_ID) return;
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => void this.check(document), CHANGE_DEBOUNCE_MS),
    );
  }

  private async check(document: vscode.TextDocument): Promise<void> {
    if (document.languageId !== DOCKERFILE_LANGUAGE_ID || document.isClosed) return;
    const froms = fromImages(document.getText());
    const names = froms.length ? await this.imageNames() : [];
    if (document.isClosed) return;
    if (!names) return void this.collection.delete(document.uri);
    const have = new Set(names.map(normaliseRef));
    const missing = froms.filter((f) => {
      const ref = normaliseRef(f.name);
      // Built-in images (busybox) are made on first use: never missing.
      return ref !== undefined && !have.has(ref) && !builtinImageName(f.name);
    });
    this.collection.set(
      document.uri,
      missing.map((f) => {
        const d = new vscode.Diagnostic(
          new vscode.Range(f.line, f.start, f.line, f.end),
          `The embedded engine has no image ${f.name}, which pulls only its built-in busybox: build or load it first.`,
          vscode.DiagnosticSeverity.Warning,
        );
        d.source = "hangar";
        d.code = MISSING_IMAGE_CODE;
        return d;
      }),
    );
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    return context.diagnostics
      .filter((d) => d.code === MISSING_IMAGE_CODE)
      .flatMap((d) => {
        const name = document.getText(d.range);
        const build = new vscode.CodeAction(`Build ${name} from a Dockerfile…`, vscode.CodeActionKind.QuickFix);
        build.command = { command: "hangar.image.buildAs", title: build.title, arguments: [name, document.uri] };
        build.diagnostics = [d];
        const load = new vscode.CodeAction(`Load ${name} from an image archive…`, vscode.CodeActionKind.QuickFix);
        load.command = { command: "hangar.images.load", title: load.title };
        load.diagnostics = [d];
        return [build, load];
      });
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}
