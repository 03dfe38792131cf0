import * as path from "node:path";
import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";
import { machineTarget } from "./machine-target";

/** Opens a Hangar terminal (a shell on a pty over the machine's SSH connection). */
export const openMachineTerminal: HangarCommand = {
  id: "hangar.machine.openTerminal",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "open a terminal", (m) => m.state === "running");
    if (!target) return undefined;
    const terminal = hangar.terminals.open(target);
    terminal.show();
    return terminal;
  },
};

/** Copies an OpenSSH command line that logs into the machine through its 127.0.0.1 endpoint. */
export const copySshCommand: HangarCommand = {
  id: "hangar.machine.copySshCommand",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "be reached over SSH", (m) => m.state === "running");
    if (!target) return undefined;
    const ssh = await hangar.machines.project(target.vagrantfile).sshTarget(target.name);
    const command = `ssh -p ${ssh.port} -i "${ssh.keyFile}" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes ${ssh.user}@127.0.0.1`;
    await vscode.env.clipboard.writeText(command);
    void vscode.window.showInformationMessage(`Copied the SSH command for '${target.name}'.`);
    return command;
  },
};

export const openMachineVagrantfile: HangarCommand = {
  id: "hangar.machine.openVagrantfile",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "show its Vagrantfile");
    if (!target) return undefined;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path.resolve(target.vagrantfile)));
    return vscode.window.showTextDocument(doc);
  },
};

export const refreshMachines: HangarCommand = {
  id: "hangar.machines.refresh",
  run({ hangar }) {
    hangar.machines.refresh();
  },
};
