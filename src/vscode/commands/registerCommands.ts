import * as vscode from "vscode";
import { errorMessage } from "../../core/util/errors";
import type { CommandEnv, HangarCommand } from "./hangar-command";
import { refreshBoxes } from "./boxes/refresh";
import { revealBoxStore } from "./boxes/reveal-store";
import { createVagrantfile } from "./vagrantfile/create";
import { createDockerfile } from "./dockerfile/create";
import { openVagrantfile } from "./vagrantfile/open";
import { openDockerfile } from "./dockerfile/open";
import { showLog } from "./log/show";
import { LIFECYCLE_COMMANDS } from "./machines/lifecycle";
import { buildBox } from "./boxes/build";
import { addBoxFromFile } from "./boxes/add";
import { removeBoxVersion, revealBox } from "./boxes/remove";
import { deleteSnapshot, restoreSnapshot, saveSnapshot } from "./machines/snapshots";
import { copySshCommand, openMachineTerminal, openMachineVagrantfile, refreshMachines } from "./machines/access";

export const COMMANDS: HangarCommand[] = [
  refreshBoxes,
  revealBoxStore,
  buildBox,
  addBoxFromFile,
  removeBoxVersion,
  revealBox,
  createVagrantfile,
  openVagrantfile,
  createDockerfile,
  openDockerfile,
  showLog,
  ...LIFECYCLE_COMMANDS,
  saveSnapshot,
  restoreSnapshot,
  deleteSnapshot,
  openMachineTerminal,
  copySshCommand,
  openMachineVagrantfile,
  refreshMachines,
];

/**
 * Registers every command, wrapped so a failure is logged and shown to the
 * user with a "Show Log" action instead of an unexplained rejected promise.
 */
export function registerCommands(env: CommandEnv): void {
  for (const command of COMMANDS) {
    const disposable = vscode.commands.registerCommand(command.id, async (...args: unknown[]) => {
      try {
        return await command.run(env, ...args);
      } catch (err) {
        env.hangar.log.error(`${command.id} failed:`, err);
        // Also to the extension host's log, where VS Code's own diagnostics (and test runs) look.
        console.error(`Hangar: ${command.id} failed: ${errorMessage(err)}`);
        const choice = await vscode.window.showErrorMessage(errorMessage(err), "Show Log");
        if (choice === "Show Log") env.hangar.log.show(true);
        return undefined;
      }
    });
    env.hangar.extension.subscriptions.push(disposable);
  }
}
