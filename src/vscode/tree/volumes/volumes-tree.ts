import type { ContainerInfo } from "dockerode";
import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { volumeUsers, type VolumeSummary } from "../../../core/docker/listing/resource-usage";
import type { DockerService } from "../../docker/docker-service";
import { DockerProblemItem } from "../docker-problem-item";

/** One volume. contextValue `volume` or `volume.inUse` (a container mounts it: Remove will refuse) drives the menus. */
export class VolumeItem extends vscode.TreeItem {
  constructor(
    readonly volume: VolumeSummary,
    readonly users: ContainerInfo[],
  ) {
    super(volume.Name, users.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    // VS Code keeps an item's collapsible state by ID: a leaf that gains children needs a new ID to show them expanded.
    this.id = `volume:${volume.Name}${users.length ? ":used" : ""}`;
    this.description = [volume.Driver, users.length ? `${users.length} container${users.length === 1 ? "" : "s"}` : "unused"].filter(Boolean).join(" · ");
    this.iconPath = new vscode.ThemeIcon("database");
    this.contextValue = users.length ? "volume.inUse" : "volume";
    this.tooltip = new vscode.MarkdownString(
      [
        `**${volume.Name}**`,
        `Driver: ${volume.Driver ?? "?"}`,
        ...(volume.Mountpoint ? [`Mount point: \`${volume.Mountpoint}\``] : []),
        ...(volume.CreatedAt ? [`Created: ${volume.CreatedAt}`] : []),
      ].join("\n\n"),
    );
  }
}

/** A container that mounts a volume, with where. */
export class VolumeContainerItem extends vscode.TreeItem {
  constructor(
    volume: VolumeSummary,
    readonly container: ContainerInfo,
  ) {
    super(containerName(container), vscode.TreeItemCollapsibleState.None);
    this.id = `volume:${volume.Name}:container:${container.Id}`;
    const at = (container.Mounts ?? []).filter((m) => m.Type === "volume" && m.Name === volume.Name).map((m) => m.Destination);
    this.description = [at.join(", "), container.State].filter(Boolean).join(" · ");
    this.iconPath = new vscode.ThemeIcon(
      container.State === "running" ? "debug-start" : "debug-stop",
      new vscode.ThemeColor(container.State === "running" ? "testing.iconPassed" : "disabledForeground"),
    );
    this.contextValue = "volumeContainer";
  }
}

type Node = VolumeItem | VolumeContainerItem | DockerProblemItem;

/**
 * The Volumes view: every volume of the current endpoint with its driver and
 * the containers that mount it (as children). Reloads on volume events and
 * container creation and removal.
 */
export class VolumesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The volumes last listed, for tests. */
  lastShown: VolumeSummary[] = [];

  constructor(private readonly docker: DockerService) {
    this.subscriptions = [docker.onDidChangeVolumes(() => this.refresh())];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item instanceof VolumeItem) return item.users.map((c) => new VolumeContainerItem(item.volume, c));
    if (item) return [];
    const { value, error } = await this.docker.list(async (d) => {
      const [listing, containers] = await Promise.all([d.listVolumes() as Promise<{ Volumes?: VolumeSummary[] | null }>, d.listContainers({ all: true })]);
      return { volumes: listing.Volumes ?? [], containers };
    });
    if (error || !value) return [new DockerProblemItem((await this.docker.endpoint()).name, error ?? "No answer.")];
    this.lastShown = value.volumes;
    return [...value.volumes].sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => new VolumeItem(v, volumeUsers(v, value.containers)));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
