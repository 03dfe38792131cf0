import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** Saves the running machine's whole state under a name the user gives (or the string argument that is not the machine's name). */
export const saveSnapshot = machineCommand({
  id: "hangar.machine.snapshotSave",
  requiresTrust: MACHINE_COMMANDS,
  verb: "take a snapshot",
  allowed: (m) => m.state === "running",
  async run(context, target, args) {
    const given = args.find((a): a is string => typeof a === "string" && a !== target.name);
    const name =
      given ??
      (await vscode.window.showInputBox({
        title: `Snapshot of '${target.name}'`,
        prompt: "Snapshot name",
        value: `snapshot-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "")}`,
        validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : "Letters, digits, '.', '_' and '-' only"),
      }));
    if (!name) return undefined;
    await runMachineOperation(context, target, `saving snapshot '${name}' of '${target.name}'`, (c) => c.project.snapshotSave(target.name, name, c.signal), true, callerSignal(args));
    return name;
  },
});
