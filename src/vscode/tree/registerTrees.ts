import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";
import { BoxesTreeProvider } from "./boxes/boxes-tree";
import { MachinesTreeProvider } from "./machines/machines-tree";
import { ImagesTreeProvider } from "./images/images-tree";
import { ContainersTreeProvider } from "./containers/containers-tree";
import { RegistriesTreeProvider } from "./registries/registries-tree";
import { NetworksTreeProvider } from "./networks/networks-tree";
import { VolumesTreeProvider } from "./volumes/volumes-tree";
import { ContextsTreeProvider } from "./contexts/contexts-tree";
import { CONTAINER_FILES_SCHEME, ContainerFileSystem } from "../files/container-files";
import { INSPECT_SCHEME } from "../files/inspect-documents";
import { MACHINE_FILES_SCHEME, MachineFileSystem } from "../files/machine-files";

export const VIEW_IDS = ["hangar.boxes", "hangar.machines", "hangar.images", "hangar.containers", "hangar.registries", "hangar.networks", "hangar.volumes", "hangar.contexts"] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export interface HangarTrees {
  boxes: BoxesTreeProvider;
  machines: MachinesTreeProvider;
  images: ImagesTreeProvider;
  containers: ContainersTreeProvider;
  registries: RegistriesTreeProvider;
  /** Running machines' files over SFTP (hangar-machine://). */
  machineFiles: MachineFileSystem;
  networks: NetworksTreeProvider;
  volumes: VolumesTreeProvider;
  contexts: ContextsTreeProvider;
  views: Record<ViewId, vscode.TreeView<vscode.TreeItem>>;
}

/** Creates all the Hangar views. Providers do no I/O until their view is shown. */
export function registerTrees(hangar: HangarContext): HangarTrees {
  const boxes = new BoxesTreeProvider(hangar);
  const machines = new MachinesTreeProvider(hangar.machines);
  // The Docker views connect (and start the embedded engine) only when VS Code first asks them for items.
  const files = new ContainerFileSystem(hangar.docker);
  const images = new ImagesTreeProvider(hangar.docker);
  const containers = new ContainersTreeProvider(hangar.docker, files);
  const registries = new RegistriesTreeProvider();
  const machineFiles = new MachineFileSystem(hangar);
  const networks = new NetworksTreeProvider(hangar.docker);
  const volumes = new VolumesTreeProvider(hangar.docker);
  const contexts = new ContextsTreeProvider(hangar.docker);
  const create = (id: ViewId, provider: vscode.TreeDataProvider<vscode.TreeItem>): vscode.TreeView<vscode.TreeItem> => {
    const view = vscode.window.createTreeView(id, { treeDataProvider: provider, showCollapseAll: false });
    hangar.extension.subscriptions.push(view);
    return view;
  };
  const views = {
    "hangar.boxes": create("hangar.boxes", boxes),
    "hangar.machines": create("hangar.machines", machines as vscode.TreeDataProvider<vscode.TreeItem>),
    "hangar.images": create("hangar.images", images as vscode.TreeDataProvider<vscode.TreeItem>),
    "hangar.containers": create("hangar.containers", containers as vscode.TreeDataProvider<vscode.TreeItem>),
    "hangar.registries": create("hangar.registries", registries),
    "hangar.networks": create("hangar.networks", networks as vscode.TreeDataProvider<vscode.TreeItem>),
    "hangar.volumes": create("hangar.volumes", volumes as vscode.TreeDataProvider<vscode.TreeItem>),
    "hangar.contexts": create("hangar.contexts", contexts as vscode.TreeDataProvider<vscode.TreeItem>),
  };
  // Events are followed while either Docker view has been shown (no polling).
  for (const view of [views["hangar.images"], views["hangar.containers"], views["hangar.networks"], views["hangar.volumes"]]) {
    if (view.visible) hangar.docker.watch();
    hangar.extension.subscriptions.push(view.onDidChangeVisibility((e) => e.visible && hangar.docker.watch()));
  }
  hangar.extension.subscriptions.push(
    vscode.workspace.registerFileSystemProvider(CONTAINER_FILES_SCHEME, files, { isReadonly: true, isCaseSensitive: true }),
    vscode.workspace.registerTextDocumentContentProvider(INSPECT_SCHEME, hangar.inspectDocuments),
    vscode.workspace.registerFileSystemProvider(MACHINE_FILES_SCHEME, machineFiles, { isCaseSensitive: true }),
    machineFiles,
    images,
    containers,
  );
  // The Machines and Images welcome content depends on which project files exist: look once they are shown.
  for (const view of [views["hangar.machines"], views["hangar.images"]]) {
    if (view.visible) hangar.projectFiles.warmUp();
    hangar.extension.subscriptions.push(view.onDidChangeVisibility((e) => e.visible && hangar.projectFiles.warmUp()));
  }
  hangar.extension.subscriptions.push(boxes, machines, registries);
  hangar.extension.subscriptions.push(networks, volumes, contexts);
  // Another HANGAR_HOME means other boxes and other machines.
  hangar.extension.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("hangar.home")) return;
      boxes.refresh();
      hangar.machines.refresh();
    }),
  );
  return { boxes, machines, images, containers, registries, machineFiles, networks, volumes, contexts, views };
}
