import * as path from "node:path";
import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/**
 * `hangar box package`: the running machine as a .box file where the user
 * saves it (or the path given as a string argument), which `box add` and a
 * Vagrantfile's box_url take.
 */
export const packageMachineBox = machineCommand({
  id: "hangar.machine.package",
  requiresTrust: MACHINE_COMMANDS,
  verb: "be packaged as a box",
  allowed: (m) => m.state === "running",
  async run(context, target, args) {
    const given = args.find((a): a is string => typeof a === "string" && a !== target.name);
    const out =
      given ??
      (
        await vscode.window.showSaveDialog({
          title: `Package '${target.name}' as a box`,
          saveLabel: "Package",
          defaultUri: vscode.Uri.file(path.join(path.dirname(target.vagrantfile), `${target.name}.box`)),
          filters: { "Vagrant box": ["box"] },
        })
      )?.fsPath;
    if (!out) return undefined;
    await runMachineOperation(context, target, `packaging '${target.name}' as ${path.basename(out)}`, (c) => c.project.package(target.name, out, c.signal), true, callerSignal(args));
    void vscode.window.showInformationMessage(`Packaged '${target.name}' as ${out}.`);
    return out;
  },
});
