import * as path from "node:path";
import * as vscode from "vscode";
import { machineCommand } from "./machine-command";

export const openMachineVagrantfile = machineCommand({
  id: "hangar.machine.openVagrantfile",
  verb: "show its Vagrantfile",
  async run(_context, target) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path.resolve(target.vagrantfile)));
    return vscode.window.showTextDocument(doc);
  },
});
