import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";
import { MACHINE_COMMANDS, runMachineOperation } from "../machines/machine-operation";
import { snapshotTarget } from "./snapshot-target";

export const deleteSnapshot: HangarCommand = {
  id: "hangar.snapshot.delete",
  requiresTrust: MACHINE_COMMANDS,
  async run(context, ...args) {
    const { machine, snapshot } = snapshotTarget(args);
    if (vscode.workspace.getConfiguration("hangar").get<boolean>("snapshots.confirmDelete", true)) {
      const answer = await vscode.window.showWarningMessage(`Delete snapshot '${snapshot.name}' of '${machine.name}'?`, { modal: true }, "Delete");
      if (answer !== "Delete") return;
    }
    await runMachineOperation(context, machine, `deleting snapshot '${snapshot.name}'`, (c) => c.project.snapshotDelete(machine.name, snapshot.name));
  },
};
