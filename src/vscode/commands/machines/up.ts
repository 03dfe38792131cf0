import * as vscode from "vscode";
import { CancelledError } from "../../../core/util/errors";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/**
 * Vagrant's `up` on one machine, from the Machines view, the palette or a
 * CodeLens. Like every lifecycle verb it runs in the machine daemon, so
 * machines outlive a window reload; the views refresh from the state files
 * the verbs write.
 */
export const upMachine = machineCommand({
  id: "hangar.machine.up",
  requiresTrust: MACHINE_COMMANDS,
  verb: "start",
  allowed: (m) => m.state !== "running",
  async run(context, target, args) {
    try {
      const [started] = await runMachineOperation(context, target, `bringing up '${target.name}'`, (c) => c.up(target.name), true, callerSignal(args));
      if (vscode.workspace.getConfiguration("hangar").get<boolean>("machines.openTerminalAfterUp", false)) {
        void vscode.commands.executeCommand("hangar.machine.openTerminal", target);
        return started;
      }
      void vscode.window.showInformationMessage(`${target.name} is running (SSH on 127.0.0.1:${started.sshPort}).`, "Open Terminal").then((choice) => {
        if (choice) void vscode.commands.executeCommand("hangar.machine.openTerminal", target);
      });
      return started;
    } catch (err) {
      // runMachineOperation has told the user what the cancelled up left.
      if (!(err instanceof CancelledError)) throw err;
      return undefined;
    }
  },
});
