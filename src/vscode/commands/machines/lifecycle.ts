import * as vscode from "vscode";
import { CancelledError } from "../../../core/util/errors";
import type { MachineEntry } from "../../workspace/workspace-machines";
import type { HangarCommand } from "../hangar-command";
import { machineTarget } from "./machine-target";
import { runMachineOperation } from "./machine-operation";

const notRunning = (m: MachineEntry): boolean => m.state !== "running";
const running = (m: MachineEntry): boolean => m.state === "running";
const created = (m: MachineEntry): boolean => m.state !== "not_created";

/**
 * Vagrant's lifecycle verbs on one machine, from the Machines view, the
 * palette or a CodeLens. Each runs in the machine daemon, so machines outlive
 * a window reload; the views refresh from the state files the verbs write.
 */
export const upMachine: HangarCommand = {
  id: "hangar.machine.up",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "start", notRunning);
    if (!target) return undefined;
    try {
      const [started] = await runMachineOperation(hangar, target, `bringing up '${target.name}'`, (c) => c.project.up([target.name], { progress: c.progress, onOutput: c.output, signal: c.signal }), true);
      void vscode.window.showInformationMessage(`${target.name} is running (SSH on 127.0.0.1:${started.sshPort}).`, "Open Terminal").then((choice) => {
        if (choice) void vscode.commands.executeCommand("hangar.machine.openTerminal", target);
      });
      return started;
    } catch (err) {
      if (!(err instanceof CancelledError)) throw err;
      void vscode.window.showInformationMessage(err.message);
      return undefined;
    }
  },
};

export const haltMachine: HangarCommand = {
  id: "hangar.machine.halt",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "halt", running);
    if (!target) return;
    await runMachineOperation(hangar, target, `halting '${target.name}'`, (c) => c.project.halt([target.name]));
  },
};

export const suspendMachine: HangarCommand = {
  id: "hangar.machine.suspend",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "suspend", running);
    if (!target) return;
    await runMachineOperation(hangar, target, `suspending '${target.name}'`, (c) => c.project.suspend([target.name]));
  },
};

export const resumeMachine: HangarCommand = {
  id: "hangar.machine.resume",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "resume", (m) => m.state === "saved");
    if (!target) return;
    await runMachineOperation(hangar, target, `resuming '${target.name}'`, (c) => c.project.up([target.name], { progress: c.progress, onOutput: c.output, signal: c.signal }), true);
  },
};

export const reloadMachine: HangarCommand = {
  id: "hangar.machine.reload",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "reload", created);
    if (!target) return;
    await runMachineOperation(hangar, target, `reloading '${target.name}'`, async (c) => {
      await c.project.halt([target.name]);
      return c.project.up([target.name], { progress: c.progress, onOutput: c.output, signal: c.signal });
    }, true);
  },
};

export const provisionMachine: HangarCommand = {
  id: "hangar.machine.provision",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "provision", running);
    if (!target) return;
    await runMachineOperation(hangar, target, `provisioning '${target.name}'`, (c) => c.project.provision([target.name], [], c.output));
    void vscode.window.showInformationMessage(`${target.name} is provisioned.`, "Show Log").then((choice) => choice && hangar.log.show(true));
  },
};

/** Asks first (destroy loses the machine's files and snapshots), unless called with `{ confirm: false }` (tests, scripts). */
export const destroyMachine: HangarCommand = {
  id: "hangar.machine.destroy",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "be destroyed", created);
    if (!target) return false;
    const skipConfirm = args.some((a) => typeof a === "object" && a !== null && (a as { confirm?: boolean }).confirm === false);
    if (!skipConfirm) {
      const answer = await vscode.window.showWarningMessage(`Destroy machine '${target.name}'? Its files, disk and snapshots are deleted; the Vagrantfile stays.`, { modal: true }, "Destroy");
      if (answer !== "Destroy") return false;
    }
    await runMachineOperation(hangar, target, `destroying '${target.name}'`, (c) => c.project.destroy([target.name]));
    return true;
  },
};

export const LIFECYCLE_COMMANDS = [upMachine, haltMachine, suspendMachine, resumeMachine, reloadMachine, provisionMachine, destroyMachine];
