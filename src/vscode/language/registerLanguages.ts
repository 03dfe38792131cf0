import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";
import { VagrantfileCompletionProvider, VAGRANTFILE_TRIGGER_CHARACTERS } from "./vagrantfile/completion-provider";
import { VagrantfileHoverProvider } from "./vagrantfile/hover-provider";
import { VAGRANTFILE_LANGUAGE_ID, VagrantfileDiagnostics } from "./vagrantfile/vagrantfile-diagnostics";

/**
 * Completion, hover and diagnostics for Vagrantfiles. Cheap to call at
 * activation: providers compute from the text on request, and Ruby starts
 * only when a Vagrantfile is opened.
 */
export function registerVagrantfileLanguage(hangar: HangarContext): void {
  const selector: vscode.DocumentSelector = { language: VAGRANTFILE_LANGUAGE_ID };
  hangar.extension.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(selector, new VagrantfileCompletionProvider(), ...VAGRANTFILE_TRIGGER_CHARACTERS),
    vscode.languages.registerHoverProvider(selector, new VagrantfileHoverProvider()),
    new VagrantfileDiagnostics(hangar),
  );
}
