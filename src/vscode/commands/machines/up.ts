import * as vscode from "vscode";
import { ProjectMachines } from "../../../core/machines/project-machines";
import type { HangarCommand } from "../hangar-command";

/**
 * Brings up one machine of a Vagrantfile (from its CodeLens), or all its
 * autostart machines, with a cancellable progress notification. The machine
 * runs in Hangar's machine daemon, so it survives a window reload.
 */
export const upMachine: HangarCommand = {
  id: "hangar.machine.up",
  async run({ hangar }, vagrantfile?: unknown, machine?: unknown) {
    const file = vagrantfile instanceof vscode.Uri ? vagrantfile : vscode.window.activeTextEditor?.document.languageId === "vagrantfile" ? vscode.window.activeTextEditor.document.uri : undefined;
    if (!file) throw new Error("Open a Vagrantfile (or use the Up lens above a machine) to choose what to bring up.");
    const names = typeof machine === "string" ? [machine] : [];
    const project = new ProjectMachines(file.fsPath, hangar.hangarHome, hangar.ruby);
    const label = names.length ? `machine '${names[0]}'` : "machines";
    const started = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Hangar: bringing up ${label}`, cancellable: false },
      (progress) => {
        let last = 0;
        return project.up(names, (fraction, message) => {
          hangar.log.info(message);
          progress.report({ message, increment: Math.max(0, fraction * 100 - last) });
          last = Math.max(last, fraction * 100);
        });
      },
    );
    const summary = started.map((s) => `${s.name} is running (ssh 127.0.0.1:${s.sshPort})`).join("; ");
    void vscode.window.showInformationMessage(summary);
    return started;
  },
};
