import type { ContainerInfo } from "dockerode";
import * as path from "node:path/posix";
import * as vscode from "vscode";
import { containerName, describePorts, groupContainers, type ContainerGroup, type ContainerGrouping } from "../../../core/docker/listing/container-groups";
import { composeServiceName, splitComposeProjects, type ComposeProject } from "../../../core/compose/compose-projects";
import type { DockerService } from "../../docker/docker-service";
import { containerFileUri, type ContainerFileSystem } from "../../files/container-files";
import { DockerProblemItem } from "../docker-problem-item";

const STATE_ICON: Record<string, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon("debug-start", new vscode.ThemeColor("testing.iconPassed")),
  restarting: new vscode.ThemeIcon("debug-restart", new vscode.ThemeColor("charts.yellow")),
  paused: new vscode.ThemeIcon("debug-pause", new vscode.ThemeColor("charts.yellow")),
  created: new vscode.ThemeIcon("circle-large-outline"),
  exited: new vscode.ThemeIcon("debug-stop", new vscode.ThemeColor("disabledForeground")),
  dead: new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground")),
};

export class ContainerGroupItem extends vscode.TreeItem {
  constructor(readonly group: ContainerGroup) {
    super(group.label, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `containers:${group.state ?? `image:${group.label}`}`;
    this.description = String(group.containers.length);
    this.iconPath = group.state ? (STATE_ICON[group.state] ?? new vscode.ThemeIcon("circle-outline")) : new vscode.ThemeIcon("package");
    this.contextValue = "containerGroup";
  }
}

/**
 * A Compose project (its containers' com.docker.compose.project label), its
 * containers below it. contextValue `composeProject.running|stopped` drives
 * the Compose Down / Restart / Logs actions.
 */
export class ComposeProjectItem extends vscode.TreeItem {
  constructor(readonly project: ComposeProject) {
    super(project.name, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `compose:${project.name}`;
    const running = project.containers.filter((c) => c.State === "running").length;
    const total = project.containers.length;
    this.description = running === total ? `${total} running` : `${running} of ${total} running`;
    this.iconPath = new vscode.ThemeIcon("layers", running ? new vscode.ThemeColor("testing.iconPassed") : undefined);
    this.contextValue = `composeProject.${running ? "running" : "stopped"}`;
    const services = [...new Set(project.containers.map((c) => composeServiceName(c) ?? "?"))];
    this.tooltip = new vscode.MarkdownString(
      [
        `**${project.name}** — Compose project`,
        `Services: ${services.map((s) => `\`${s}\``).join(", ")}`,
        ...(project.workingDir ? [`Folder: \`${project.workingDir}\``] : []),
        ...(project.configFiles.length ? [`Files: ${project.configFiles.map((f) => `\`${f}\``).join(", ")}`] : []),
      ].join("\n\n"),
    );
  }
}

/** One container. contextValue `container.<state>` drives the menus. */
export class ContainerItem extends vscode.TreeItem {
  readonly name: string;

  constructor(readonly container: ContainerInfo) {
    const name = containerName(container);
    super(name, vscode.TreeItemCollapsibleState.Collapsed);
    this.name = name;
    this.id = `container:${container.Id}`;
    const ports = describePorts(container.Ports ?? []);
    this.description = [container.Image, container.Status, ports].filter(Boolean).join(" · ");
    this.iconPath = STATE_ICON[container.State] ?? new vscode.ThemeIcon("circle-outline");
    this.contextValue = `container.${container.State}${container.Ports?.some((p) => p.PublicPort && p.Type === "tcp") ? ".ports" : ""}`;
    this.tooltip = new vscode.MarkdownString(
      [`**${name}** — ${container.Status}`, `ID: \`${container.Id.slice(0, 12)}\``, `Image: \`${container.Image}\``, `Command: \`${container.Command}\``, ...(ports ? [`Ports: ${ports}`] : [])].join(
        "\n\n",
      ),
    );
  }
}

/** A folder or file inside a container (the "Files" child and below), read through the container file system. */
export class ContainerFileItem extends vscode.TreeItem {
  constructor(
    readonly container: ContainerInfo,
    readonly uri: vscode.Uri,
    folder: boolean,
    label?: string,
  ) {
    super(label ?? (path.basename(uri.path) || "/"), folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = `file:${uri.toString()}`;
    this.resourceUri = uri;
    if (label) this.iconPath = new vscode.ThemeIcon("files");
    this.contextValue = folder ? "containerFolder" : "containerFile";
    if (!folder) this.command = { command: "vscode.open", title: "Open", arguments: [uri] };
  }
}

type Node = ComposeProjectItem | ContainerGroupItem | ContainerItem | ContainerFileItem | DockerProblemItem;

/**
 * The Containers view: every container of the current endpoint, those of a
 * Compose project under the project, the others grouped by
 * state (running first) or by image (`hangar.containers.groupBy`), each
 * with a "Files" child that browses it read-only. Reloads on container
 * events.
 */
export class ContainersTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The containers last listed, for tests. */
  lastShown: ContainerInfo[] = [];

  constructor(
    private readonly docker: DockerService,
    private readonly files: ContainerFileSystem,
  ) {
    this.subscriptions = [
      docker.onDidChangeContainers(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => (e.affectsConfiguration("hangar.containers.groupBy") || e.affectsConfiguration("hangar.containers.groupComposeProjects")) && this.refresh()),
    ];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item instanceof ComposeProjectItem) return item.project.containers.map((c) => new ContainerItem(c));
    if (item instanceof ContainerGroupItem) return item.group.containers.map((c) => new ContainerItem(c));
    if (item instanceof ContainerItem) return [new ContainerFileItem(item.container, containerFileUri(item.container.Id, "/"), true, "Files")];
    if (item instanceof ContainerFileItem) {
      try {
        const entries = await this.files.readDirectory(item.uri);
        return entries.map(([name, type]) => new ContainerFileItem(item.container, item.uri.with({ path: path.join(item.uri.path, name) }), (type & vscode.FileType.Directory) !== 0));
      } catch (err) {
        return [new DockerProblemItem((await this.docker.endpoint()).name, err instanceof Error ? err.message : String(err))];
      }
    }
    if (item) return [];
    const { value, error } = await this.docker.list((d) => d.listContainers({ all: true }));
    if (error) return [new DockerProblemItem((await this.docker.endpoint()).name, error)];
    this.lastShown = value ?? [];
    const config = vscode.workspace.getConfiguration("hangar");
    const by = config.get<ContainerGrouping>("containers.groupBy", "state");
    // Compose projects first, each under its name; the other containers grouped as before.
    const { projects, others } = config.get<boolean>("containers.groupComposeProjects", true) ? splitComposeProjects(this.lastShown) : { projects: [], others: this.lastShown };
    return [...projects.map((p) => new ComposeProjectItem(p)), ...groupContainers(others, by === "image" ? "image" : "state").map((g) => new ContainerGroupItem(g))];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
