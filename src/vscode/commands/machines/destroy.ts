import * as vscode from "vscode";
import { CancelledError } from "../../../core/util/errors";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation, type Cancelled } from "./machine-operation";

/**
 * Asks first (destroy loses the machine's files and snapshots) unless
 * `hangar.machines.confirmDestroy` is off or it is called with
 * `{ confirm: false }` (tests, scripts). Cancellable until the machine is
 * powered off.
 */
export const destroyMachine = machineCommand({
  id: "hangar.machine.destroy",
  requiresTrust: MACHINE_COMMANDS,
  verb: "be destroyed",
  allowed: (m) => m.state !== "not_created",
  unchosen: false,
  async run(context, target, args): Promise<boolean | Cancelled> {
    const skipConfirm =
      !vscode.workspace.getConfiguration("hangar").get<boolean>("machines.confirmDestroy", true) ||
      args.some((a) => typeof a === "object" && a !== null && (a as { confirm?: boolean }).confirm === false);
    if (!skipConfirm) {
      const answer = await vscode.window.showWarningMessage(`Destroy machine '${target.name}'? Its files, disk and snapshots are deleted; the Vagrantfile stays.`, { modal: true }, "Destroy");
      if (answer !== "Destroy") return false;
    }
    try {
      await runMachineOperation(context, target, `destroying '${target.name}'`, (c) => c.project.destroy([target.name], c.signal), true, callerSignal(args));
    } catch (err) {
      if (err instanceof CancelledError) return { cancelled: true, message: err.message };
      throw err;
    }
    return true;
  },
});
