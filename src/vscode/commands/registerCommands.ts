import * as vscode from "vscode";
import { CancelledError, errorMessage } from "../../core/util/errors";
import { RestrictedModeError, requireTrust, showRestricted } from "../workspace/workspace-trust";
import type { CommandContext, CommandEnv, HangarCommand, ProgressOptions, TaskProgress } from "./hangar-command";
import { addBoxFromFile } from "./boxes/add";
import { buildBox } from "./boxes/build";
import { buildDebianBox } from "./boxes/build-debian";
import { refreshBoxes } from "./boxes/refresh";
import { removeBoxVersion } from "./boxes/remove";
import { revealBox } from "./boxes/reveal";
import { revealBoxStore } from "./boxes/reveal-store";
import { browseContainerFiles } from "./containers/browse-files";
import { copyContainerId } from "./containers/copy-id";
import { copyContainerIp } from "./containers/copy-ip";
import { copyContainerName } from "./containers/copy-name";
import { inspectContainer } from "./containers/inspect";
import { containerLogs } from "./containers/logs";
import { openContainerPort } from "./containers/open-port";
import { pauseContainer } from "./containers/pause";
import { refreshContainers } from "./containers/refresh";
import { removeContainer } from "./containers/remove";
import { restartContainer } from "./containers/restart";
import { containerShell } from "./containers/shell";
import { startContainer } from "./containers/start";
import { stopContainer } from "./containers/stop";
import { unpauseContainer } from "./containers/unpause";
import { selectEndpoint } from "./docker/select-endpoint";
import { createDockerfile } from "./dockerfile/create";
import { openDockerfile } from "./dockerfile/open";
import { buildImage } from "./images/build";
import { buildImageAs } from "./images/build-as";
import { inspectImage } from "./images/inspect";
import { loadImage } from "./images/load";
import { pruneImages } from "./images/prune";
import { refreshImages } from "./images/refresh";
import { removeImage } from "./images/remove";
import { runImage } from "./images/run";
import { runImageInteractive } from "./images/run-interactive";
import { saveImage } from "./images/save";
import { tagImage } from "./images/tag";
import { pullImage } from "./images/pull";
import { pushImage } from "./images/push";
import { pullBoxFromRegistry } from "./boxes/pull";
import { addRegistry } from "./registries/add";
import { pullRegistryTag } from "./registries/pull-tag";
import { refreshRegistries } from "./registries/refresh";
import { showLog } from "./log/show";
import { copySshCommand } from "./machines/copy-ssh-command";
import { destroyMachine } from "./machines/destroy";
import { haltMachine } from "./machines/halt";
import { openMachineTerminal } from "./machines/open-terminal";
import { openMachineVagrantfile } from "./machines/open-vagrantfile";
import { provisionMachine } from "./machines/provision";
import { refreshMachines } from "./machines/refresh";
import { reloadMachine } from "./machines/reload";
import { resumeMachine } from "./machines/resume";
import { saveSnapshot } from "./machines/snapshot-save";
import { suspendMachine } from "./machines/suspend";
import { upMachine } from "./machines/up";
import { browseMachineFiles } from "./machines/browse-files";
import { deleteSnapshot } from "./snapshots/delete";
import { restoreSnapshot } from "./snapshots/restore";
import { createVagrantfile } from "./vagrantfile/create";
import { createNetwork } from "./networks/create";
import { inspectNetwork } from "./networks/inspect";
import { pruneNetworks } from "./networks/prune";
import { refreshNetworks } from "./networks/refresh";
import { removeNetwork } from "./networks/remove";
import { createVolume } from "./volumes/create";
import { inspectVolume } from "./volumes/inspect";
import { pruneVolumes } from "./volumes/prune";
import { refreshVolumes } from "./volumes/refresh";
import { removeVolume } from "./volumes/remove";
import { refreshContexts } from "./contexts/refresh";
import { useContext } from "./contexts/use";
import { openVagrantfile } from "./vagrantfile/open";
import { openMachineConsole } from "./machines/console";
import { showSshConfig } from "./machines/ssh-config";
import { listMachinePorts } from "./ports/list";
import { rsyncMachine } from "./machines/rsync";
import { validateVagrantfile } from "./machines/validate";
import { packageMachineBox } from "./machines/package";
import { globalStatus } from "./machines/global-status";
import { pushSnapshot } from "./machines/snapshot-push";
import { popSnapshot } from "./machines/snapshot-pop";
import { listSnapshots } from "./machines/snapshot-list";
import { startEmbeddedEngine } from "./engine/start";
import { stopEmbeddedEngine } from "./engine/stop";
import { showEngineStatus } from "./engine/status";
import { composeUp } from "./compose/up";
import { composeDown } from "./compose/down";
import { composeDownVolumes } from "./compose/down-volumes";
import { composeRestart } from "./compose/restart";
import { composeLogs } from "./compose/logs";

export const COMMANDS: readonly HangarCommand[] = [
  refreshBoxes,
  revealBoxStore,
  buildBox,
  buildDebianBox,
  addBoxFromFile,
  removeBoxVersion,
  revealBox,
  createVagrantfile,
  openVagrantfile,
  createDockerfile,
  openDockerfile,
  showLog,
  upMachine,
  haltMachine,
  suspendMachine,
  resumeMachine,
  reloadMachine,
  provisionMachine,
  destroyMachine,
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
  pullImage,
  pushImage,
  pullBoxFromRegistry,
  refreshRegistries,
  addRegistry,
  pullRegistryTag,
  removeImage,
  pruneImages,
  saveImage,
  loadImage,
  refreshContainers,
  startContainer,
  stopContainer,
  restartContainer,
  pauseContainer,
  unpauseContainer,
  removeContainer,
  containerLogs,
  containerShell,
  inspectContainer,
  copyContainerId,
  copyContainerName,
  copyContainerIp,
  openContainerPort,
  browseContainerFiles,
  openMachineConsole,
  showSshConfig,
  listMachinePorts,
  rsyncMachine,
  validateVagrantfile,
  packageMachineBox,
  globalStatus,
  pushSnapshot,
  popSnapshot,
  listSnapshots,
  startEmbeddedEngine,
  stopEmbeddedEngine,
  showEngineStatus,
  browseMachineFiles,
  refreshNetworks,
  createNetwork,
  inspectNetwork,
  removeNetwork,
  pruneNetworks,
  refreshVolumes,
  createVolume,
  inspectVolume,
  removeVolume,
  pruneVolumes,
  refreshContexts,
  useContext,
  composeUp,
  composeDown,
  composeDownVolumes,
  composeRestart,
  composeLogs,
];

/**
 * A notification for a command's long task. Cancel aborts the task's signal;
 * fractions become the increments VS Code wants.
 */
async function withProgress<T>({ title, cancellable = false }: ProgressOptions, task: (progress: TaskProgress) => Promise<T>): Promise<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    let last = 0;
    return task({
      signal: abort.signal,
      report(message, fraction) {
        if (fraction === undefined) return progress.report({ message });
        progress.report({ message, increment: Math.max(0, fraction * 100 - last) });
        last = Math.max(last, fraction * 100);
      },
    });
  });
}

/**
 * Registers every command, wrapped so its precondition (workspace trust) is
 * checked first, and a failure is logged and shown to the user with a "Show
 * Log" action instead of an unexplained rejected promise.
 */
export function registerCommands(env: CommandEnv): void {
  const context: CommandContext = { ...env, withProgress };
  for (const command of COMMANDS) {
    const disposable = vscode.commands.registerCommand(command.id, async (...args: unknown[]) => {
      try {
        if (command.requiresTrust) requireTrust(command.requiresTrust);
        return await command.run(context, ...args);
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
