import * as vscode from "vscode";
import { CancelledError, errorMessage } from "../../core/util/errors";
import type { CommandEnv, HangarCommand } from "./hangar-command";
import { RestrictedModeError, showRestricted } from "../workspace/workspace-trust";
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
import { selectEndpoint } from "./docker/select-endpoint";
import { inspectImage, loadImage, pruneImages, refreshImages, removeImage, runImage, runImageInteractive, saveImage, tagImage } from "./images/image-commands";
import { buildImage, buildImageAs } from "./images/build-image";
import * as containerCommands from "./containers/container-commands";
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
  selectEndpoint,
  refreshImages,
  buildImage,
  buildImageAs,
  runImage,
  runImageInteractive,
  inspectImage,
  tagImage,
  removeImage,
  pruneImages,
  saveImage,
  loadImage,
  ...Object.values(containerCommands),
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
        // Nothing to pick, or the user backed out: say so quietly.
        if (err instanceof CancelledError) {
          vscode.window.setStatusBarMessage(err.message, 4000);
          return undefined;
        }
        // Refused by Restricted Mode: not a failure; say why, with the way to lift it.
        if (err instanceof RestrictedModeError) {
          env.hangar.log.warn(`${command.id}: ${err.message}`);
          showRestricted(err);
          return undefined;
        }
        env.hangar.log.error(`${command.id} failed:`, err);
        // Also to the extension host's log, where VS Code's own diagnostics (and test runs) look.
        console.error(`Hangar: ${command.id} failed: ${errorMessage(err)}`);
        // Not awaited: the command is over; its caller should not wait for the notification to be dismissed.
        void vscode.window.showErrorMessage(errorMessage(err), "Show Log").then((choice) => choice === "Show Log" && env.hangar.log.show(true));
        return undefined;
      }
    });
    env.hangar.extension.subscriptions.push(disposable);
  }
}
