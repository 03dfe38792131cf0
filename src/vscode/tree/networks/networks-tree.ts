import type { ContainerInfo } from "dockerode";
import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { addressOn, isPredefinedNetwork, networkMembers, type NetworkSummary } from "../../../core/docker/listing/resource-usage";
import type { DockerService } from "../../docker/docker-service";
import { DockerProblemItem } from "../docker-problem-item";

/** One network. contextValue `network` (removable) or `network.predefined` (bridge, host, none) drives the menus. */
export class NetworkItem extends vscode.TreeItem {
  constructor(
    readonly network: NetworkSummary,
    readonly members: ContainerInfo[],
  ) {
    super(network.Name, members.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    // VS Code keeps an item's collapsible state by ID: a leaf that gains children needs a new ID to show them expanded.
    this.id = `network:${network.Id}${members.length ? ":used" : ""}`;
    const subnet = network.IPAM?.Config?.[0]?.Subnet;
    this.description = [network.Driver, network.Scope, subnet, members.length ? `${members.length} container${members.length === 1 ? "" : "s"}` : ""].filter(Boolean).join(" · ");
    this.iconPath = new vscode.ThemeIcon("type-hierarchy-sub");
    this.contextValue = isPredefinedNetwork(network) ? "network.predefined" : "network";
    this.tooltip = new vscode.MarkdownString(
      [`**${network.Name}**`, `ID: \`${network.Id.slice(0, 12)}\``, `Driver: ${network.Driver ?? "?"}`, `Scope: ${network.Scope ?? "?"}`, ...(subnet ? [`Subnet: ${subnet}`] : [])].join("\n\n"),
    );
  }
}

/** A container attached to a network, with its address on it. */
export class NetworkContainerItem extends vscode.TreeItem {
  constructor(
    network: NetworkSummary,
    readonly container: ContainerInfo,
  ) {
    super(containerName(container), vscode.TreeItemCollapsibleState.None);
    this.id = `network:${network.Id}:container:${container.Id}`;
    this.description = [addressOn(network, container), container.State].filter(Boolean).join(" · ");
    this.iconPath = new vscode.ThemeIcon(
      container.State === "running" ? "debug-start" : "debug-stop",
      new vscode.ThemeColor(container.State === "running" ? "testing.iconPassed" : "disabledForeground"),
    );
    this.contextValue = "networkContainer";
  }
}

type Node = NetworkItem | NetworkContainerItem | DockerProblemItem;

/**
 * The Networks view: every network of the current endpoint, driver and
 * scope in the description, the containers attached to it as children.
 * Reloads on network events (and container starts and stops).
 */
export class NetworksTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The networks last listed, for tests. */
  lastShown: NetworkSummary[] = [];

  constructor(private readonly docker: DockerService) {
    this.subscriptions = [docker.onDidChangeNetworks(() => this.refresh())];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item instanceof NetworkItem) return item.members.map((c) => new NetworkContainerItem(item.network, c));
    if (item) return [];
    const { value, error } = await this.docker.list(async (d) => {
      const [networks, containers] = await Promise.all([d.listNetworks() as Promise<NetworkSummary[]>, d.listContainers({ all: true })]);
      return { networks, containers };
    });
    if (error || !value) return [new DockerProblemItem((await this.docker.endpoint()).name, error ?? "No answer.")];
    this.lastShown = value.networks;
    return [...value.networks].sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => new NetworkItem(n, networkMembers(n, value.containers)));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
