import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** `snapshot pop`: back to the newest pushed snapshot (the machine runs afterwards), which is then deleted. */
export const popSnapshot = machineCommand({
  id: "hangar.machine.snapshotPop",
  requiresTrust: MACHINE_COMMANDS,
  verb: "pop a snapshot",
  allowed: (m) => m.state !== "not_created" && m.snapshots.some((s) => s.name.startsWith("push_")),
  async run(context, target, args) {
    const name = await runMachineOperation(
      context,
      target,
      `popping the last pushed snapshot of '${target.name}'`,
      (c) => c.project.snapshotPop(target.name, c.progress, c.signal),
      true,
      callerSignal(args),
    );
    void vscode.window.showInformationMessage(`'${target.name}' is back at snapshot ${name} (now deleted) and running.`);
    return name;
  },
});
