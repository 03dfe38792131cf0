import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** `snapshot push`: saves the running machine's whole state on top of its stack of pushed snapshots; pop goes back to it. */
export const pushSnapshot = machineCommand({
  id: "hangar.machine.snapshotPush",
  requiresTrust: MACHINE_COMMANDS,
  verb: "push a snapshot",
  allowed: (m) => m.state === "running",
  async run(context, target, args) {
    const name = await runMachineOperation(context, target, `pushing a snapshot of '${target.name}'`, (c) => c.project.snapshotPush(target.name, c.signal), true, callerSignal(args));
    void vscode.window.showInformationMessage(`Pushed snapshot ${name} of '${target.name}'.`);
    return name;
  },
});
