import * as vscode from "vscode";
import { machineOperationCommand } from "./machine-operation";

/** Runs the Vagrantfile's provisioners on the running machine; their output goes to the Hangar log. */
export const provisionMachine = machineOperationCommand({
  id: "hangar.machine.provision",
  verb: "provision",
  allowed: (m) => m.state === "running",
  title: (name) => `provisioning '${name}'`,
  operation: (c, name) => c.project.provision([name], [], c.output, c.signal),
  cancellable: true,
  after(context, name) {
    void vscode.window.showInformationMessage(`${name} is provisioned.`, "Show Log").then((choice) => choice && context.hangar.log.show(true));
  },
});
