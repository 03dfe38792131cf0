import * as vscode from "vscode";
import { machineCommand } from "./machine-command";

/** Copies an OpenSSH command line that logs into the machine through its 127.0.0.1 endpoint. */
export const copySshCommand = machineCommand({
  id: "hangar.machine.copySshCommand",
  verb: "be reached over SSH",
  allowed: (m) => m.state === "running",
  async run({ hangar }, target) {
    const ssh = await hangar.machines.project(target.vagrantfile).sshTarget(target.name);
    const command = `ssh -p ${ssh.port} -i "${ssh.keyFile}" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes ${ssh.user}@127.0.0.1`;
    await vscode.env.clipboard.writeText(command);
    void vscode.window.showInformationMessage(`Copied the SSH command for '${target.name}'.`);
    return command;
  },
});
