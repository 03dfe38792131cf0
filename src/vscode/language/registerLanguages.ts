import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";
import { VagrantfileCompletionProvider, VAGRANTFILE_TRIGGER_CHARACTERS } from "./vagrantfile/completion-provider";
import { VagrantfileHoverProvider } from "./vagrantfile/hover-provider";
import { VagrantfileCodeLensProvider } from "./vagrantfile/codelens-provider";
import { VAGRANTFILE_LANGUAGE_ID, VagrantfileDiagnostics } from "./vagrantfile/vagrantfile-diagnostics";

/**
 * Completion, hover, diagnostics and Up lenses for Vagrantfiles. Cheap to call at
 * activation: providers compute from the text on request, and Ruby starts
 * only when a Vagrantfile is opened.
 */
export function registerVagrantfileLanguage(hangar: HangarContext): void {
  const selector: vscode.DocumentSelector = { language: VAGRANTFILE_LANGUAGE_ID };
  const lenses = new VagrantfileCodeLensProvider(hangar);
  hangar.extension.subscriptions.push(
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.workspace.onDidSaveTextDocument((d) => d.languageId === VAGRANTFILE_LANGUAGE_ID && lenses.refresh()),
    vscode.languages.registerCompletionItemProvider(selector, new VagrantfileCompletionProvider(), ...VAGRANTFILE_TRIGGER_CHARACTERS),
    vscode.languages.registerHoverProvider(selector, new VagrantfileHoverProvider()),
    new VagrantfileDiagnostics(hangar),
  );
}
