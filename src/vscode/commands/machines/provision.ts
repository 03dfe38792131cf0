import * as vscode from "vscode";
import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** Runs the Vagrantfile's provisioners on the running machine; their output goes to the Hangar log. */
export const provisionMachine = machineCommand({
  id: "hangar.machine.provision",
  requiresTrust: MACHINE_COMMANDS,
  verb: "provision",
  allowed: (m) => m.state === "running",
  async run(context, target) {
    await runMachineOperation(context, target, `provisioning '${target.name}'`, (c) => c.project.provision([target.name], [], c.output));
    void vscode.window.showInformationMessage(`${target.name} is provisioned.`, "Show Log").then((choice) => choice && context.hangar.log.show(true));
  },
});
