import type { RegistriesTreeProvider } from "./vscode/tree/registries/registries-tree";
import * as vscode from "vscode";
import { product } from "./core/product";
import { HangarContext } from "./vscode/hangar-context";
import { registerCommands } from "./vscode/commands/registerCommands";
import { registerTrees, type ViewId } from "./vscode/tree/registerTrees";
import { registerComposeLanguage, registerDockerfileLanguage, registerVagrantfileLanguage } from "./vscode/language/registerLanguages";
import { MachineStatusBar } from "./vscode/status/machine-status-bar";
import { DockerEndpointStatusBar } from "./vscode/status/docker-endpoint-status-bar";
import { LiveSync } from "./vscode/workspace/live-sync";
import type { MachineTerminals } from "./vscode/terminals/machine-terminals";
import type { MachinesTreeProvider } from "./vscode/tree/machines/machines-tree";
import type { BoxesTreeProvider } from "./vscode/tree/boxes/boxes-tree";
import type { ImagesTreeProvider } from "./vscode/tree/images/images-tree";
import type { ContainersTreeProvider } from "./vscode/tree/containers/containers-tree";
import type { DockerTerminals } from "./vscode/terminals/docker-terminals";
import type { NetworksTreeProvider } from "./vscode/tree/networks/networks-tree";
import type { VolumesTreeProvider } from "./vscode/tree/volumes/volumes-tree";
import type { ContextsTreeProvider } from "./vscode/tree/contexts/contexts-tree";
import { suspendWorkspaceMachines } from "./vscode/workspace/suspend-on-close";
import { isTrusted } from "./vscode/workspace/workspace-trust";
import { checkHangarHome, resolveHangarHome } from "./core/util/hangar-home";
import { errorMessage } from "./core/util/errors";

// Set by the bundle's first line (esbuild banner), so module loading counts too.
declare const __hangarLoadStart: number | undefined;
const loadedAt = typeof __hangarLoadStart === "number" ? __hangarLoadStart : performance.now();

/** What `activate` returns: lets tests and other extensions observe Hangar. */
export interface HangarApi {
  version: string;
  /** Milliseconds from loading the bundle to the end of activate(). */
  activationMs: number;
  views: Record<ViewId, vscode.TreeView<vscode.TreeItem>>;
  /** Open machine terminals (their transcripts), for tests. */
  terminals(): MachineTerminals;
  machinesTree: MachinesTreeProvider;
  boxesTree: BoxesTreeProvider;
  imagesTree: ImagesTreeProvider;
  containersTree: ContainersTreeProvider;
  registriesTree: RegistriesTreeProvider;
  networksTree: NetworksTreeProvider;
  volumesTree: VolumesTreeProvider;
  contextsTree: ContextsTreeProvider;
  /** Open container shells, logs and build logs (their transcripts), for tests. */
  dockerTerminals(): DockerTerminals;
  /** What deactivate does when VS Code closes (tests call it without closing). */
  suspendOnClose(): Promise<void>;
  /** Folder of the "Hangar" log channel's file (diagnostics, tests). */
  logUri: vscode.Uri;
}

let active: HangarContext | undefined;

/**
 * Activation wires views and commands and nothing more: no emulator, no Ruby
 * VM, no file scan. Each of those starts on first use.
 */
export function activate(context: vscode.ExtensionContext): HangarApi {
  const hangar = new HangarContext(context);
  context.subscriptions.push(hangar);
  const trees = registerTrees(hangar);
  registerCommands({ hangar, trees });
  registerVagrantfileLanguage(hangar);
  registerDockerfileLanguage(hangar);
  registerComposeLanguage(hangar);
  context.subscriptions.push(
    new MachineStatusBar(hangar),
    new LiveSync(hangar),
    new DockerEndpointStatusBar(hangar, [
      trees.views["hangar.images"],
      trees.views["hangar.containers"],
      trees.views["hangar.networks"],
      trees.views["hangar.volumes"],
      trees.views["hangar.contexts"],
    ]),
  );
  // The terminal profile must be registered for the dropdown, without starting anything.
  void hangar.terminals;
  active = hangar;
  checkHomeAtActivation(hangar);
  if (!isTrusted()) hangar.log.info("Restricted Mode: Hangar evaluates no Vagrantfile and builds or starts nothing from this workspace until it is trusted.");
  const activationMs = performance.now() - loadedAt;
  hangar.log.info(`${product.name} ${product.version} activated in ${activationMs.toFixed(1)} ms (VS Code ${vscode.version}).`);
  return {
    version: product.version,
    activationMs,
    views: trees.views,
    terminals: () => hangar.terminals,
    machinesTree: trees.machines,
    boxesTree: trees.boxes,
    imagesTree: trees.images,
    containersTree: trees.containers,
    registriesTree: trees.registries,
    networksTree: trees.networks,
    volumesTree: trees.volumes,
    contextsTree: trees.contexts,
    dockerTerminals: () => hangar.dockerTerminals,
    suspendOnClose: () => suspendWorkspaceMachines(hangar),
    logUri: context.logUri,
  };
}

/**
 * An unusable HANGAR_HOME (another user's, or writable by others) is said
 * once at activation, not first at some later click; every use refuses it
 * too (HangarContext.hangarHome). Nothing is created here: activation stays cheap.
 */
function checkHomeAtActivation(hangar: HangarContext): void {
  try {
    checkHangarHome(resolveHangarHome(vscode.workspace.getConfiguration("hangar").get<string>("home")));
  } catch (err) {
    hangar.log.error(errorMessage(err));
    void vscode.window.showErrorMessage(errorMessage(err), "Open Settings").then((choice) => choice && vscode.commands.executeCommand("workbench.action.openSettings", "hangar.home"));
  }
}

/** Suspends this workspace's running machines (setting, default on); everything else is disposed through context.subscriptions. */
export async function deactivate(): Promise<void> {
  if (active && vscode.workspace.getConfiguration("hangar").get<boolean>("machines.suspendOnClose", true)) await suspendWorkspaceMachines(active);
  active = undefined;
}
