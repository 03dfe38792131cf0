import * as vscode from "vscode";
import { HangarError } from "../../core/util/errors";
import { RubyEvaluator } from "../../core/vagrantfile/ruby-evaluator";
import type { EvaluationRecord } from "../../core/vagrantfile/vagrant-record";

/**
 * Restricted Mode, in one place. A Vagrantfile is Ruby with the whole file
 * system, and a Dockerfile's build runs its steps: neither runs for a
 * workspace the user has not trusted. Views, grammars, completion and the
 * text-only Dockerfile checks stay on. Every entry point that would evaluate
 * a Vagrantfile or start a build or machine from the workspace asks this
 * module; what waits for trust subscribes to onDidGrant and starts then,
 * without a reload (trust is never withdrawn without one).
 */

export const MANAGE_TRUST_COMMAND = "workbench.trust.manage";
const MANAGE_TRUST = "Manage Workspace Trust";

/** A workspace feature refused because the workspace is not trusted. */
export class RestrictedModeError extends HangarError {
  constructor(readonly what: string) {
    super(
      `${what} is off in Restricted Mode: Hangar runs no Vagrantfile and builds or starts nothing from a workspace you have not trusted.`,
      "Trust this workspace (Manage Workspace Trust) to allow it.",
    );
  }
}

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/** Throws RestrictedModeError unless the workspace is trusted. `what` names the refused feature ("Building an image"). */
export function requireTrust(what: string): void {
  if (!vscode.workspace.isTrusted) throw new RestrictedModeError(what);
}

/** Runs `listener` once the user trusts the workspace (never when it already is). */
export function onDidGrantTrust(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidGrantWorkspaceTrust(listener);
}

/** The refusal as a warning with the action that lifts it. Not awaited by callers: the command is over. */
export function showRestricted(err: RestrictedModeError): void {
  void vscode.window.showWarningMessage(err.message, MANAGE_TRUST).then((choice) => choice && vscode.commands.executeCommand(MANAGE_TRUST_COMMAND));
}

/** In place of lenses that would evaluate or build: says why they are missing, and opens the trust editor. */
export function restrictedLens(range: vscode.Range, what: string): vscode.CodeLens {
  return new vscode.CodeLens(range, {
    title: `$(workspace-untrusted) Restricted Mode: ${what}`,
    command: MANAGE_TRUST_COMMAND,
    tooltip: "Hangar runs no Vagrantfile and builds nothing from an untrusted workspace. Trust it to enable these.",
  });
}

/**
 * The extension's Ruby: refuses to evaluate in Restricted Mode, whoever asks
 * (diagnostics, lenses, the Machines view, lifecycle commands), so no path
 * into Ruby can forget the check.
 */
export class TrustedRubyEvaluator extends RubyEvaluator {
  override evaluate(source: string, file: string, env: Record<string, string>): Promise<EvaluationRecord> {
    if (!vscode.workspace.isTrusted) return Promise.reject(new RestrictedModeError("Evaluating a Vagrantfile"));
    return super.evaluate(source, file, env);
  }
}
