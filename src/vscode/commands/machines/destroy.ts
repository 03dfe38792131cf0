import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** Asks first (destroy loses the machine's files and snapshots), unless called with `{ confirm: false }` (tests, scripts). */
export const destroyMachine = machineCommand({
  id: "hangar.machine.destroy",
  requiresTrust: MACHINE_COMMANDS,
  verb: "be destroyed",
  allowed: (m) => m.state !== "not_created",
  unchosen: false,
  async run(context, target, args) {
    const skipConfirm = args.some((a) => typeof a === "object" && a !== null && (a as { confirm?: boolean }).confirm === false);
    if (!skipConfirm) {
      const answer = await vscode.window.showWarningMessage(`Destroy machine '${target.name}'? Its files, disk and snapshots are deleted; the Vagrantfile stays.`, { modal: true }, "Destroy");
      if (answer !== "Destroy") return false;
    }
    await runMachineOperation(context, target, `destroying '${target.name}'`, (c) => c.project.destroy([target.name]));
    return true;
  },
});
