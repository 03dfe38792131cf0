import * as path from "node:path";
import * as posix from "node:path/posix";
import * as vscode from "vscode";
import { errorMessage } from "../../../core/util/errors";
import { machineFileUri } from "../../files/machine-files";
import type { MachineState } from "../../../core/machines/machine-records";
import type { MachineEntry, ProjectEntry, WorkspaceMachines } from "../../workspace/workspace-machines";
import { MANAGE_TRUST_COMMAND } from "../../workspace/workspace-trust";

const STATE_LABEL: Record<MachineState, string> = { running: "running", saved: "saved", poweroff: "poweroff", not_created: "not created", aborted: "aborted" };
const STATE_ICON: Record<MachineState, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon("vm-running", new vscode.ThemeColor("testing.iconPassed")),
  saved: new vscode.ThemeIcon("debug-pause", new vscode.ThemeColor("charts.yellow")),
  poweroff: new vscode.ThemeIcon("vm-outline"),
  not_created: new vscode.ThemeIcon("circle-large-outline", new vscode.ThemeColor("disabledForeground")),
  aborted: new vscode.ThemeIcon("warning", new vscode.ThemeColor("problemsWarningIcon.foreground")),
};

/** One machine. contextValue `machine.<state>` drives the menus. */
export class MachineItem extends vscode.TreeItem {
  constructor(readonly machine: MachineEntry) {
    super(machine.name, machine.snapshots.length || machine.state === "running" ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = `machine:${machine.vagrantfile}#${machine.name}`;
    const addresses = machine.addresses ?? [];
    this.description =
      STATE_LABEL[machine.state] +
      // The provider when it is not the embedded default (status says it always).
      (machine.provider && machine.provider !== "embedded" ? ` · ${machine.provider}` : "") +
      (addresses.length ? ` · ${addresses.map((a) => a.split("/")[0]).join(", ")}` : "") +
      (machine.elsewhere ? ` · ${path.dirname(machine.vagrantfile)}` : "");
    this.iconPath = STATE_ICON[machine.state];
    this.contextValue = `machine.${machine.state}`;
    const forwarded = (machine.ports ?? []).filter((p) => p.id !== "ssh").map((p) => `guest ${p.guest} → \`${p.hostIp}:${p.host}\``);
    const ssh =
      (machine.sshPort ? `\n\nSSH: \`127.0.0.1:${machine.sshPort}\`` : "") +
      (forwarded.length ? `\n\nForwarded: ${forwarded.join(", ")}` : "") +
      (addresses.length ? `\n\nPrivate network: ${addresses.map((a) => `\`${a}\``).join(", ")}` : "");
    const provider = machine.provider ? `\n\nProvider: ${machine.provider}` : "";
    this.tooltip = new vscode.MarkdownString(`**${machine.name}** — ${STATE_LABEL[machine.state]}\n\n\`${machine.vagrantfile}\`${provider}${ssh}`);
  }
}

/** A snapshot of a machine (child of its item). */
export class SnapshotItem extends vscode.TreeItem {
  constructor(
    readonly machine: MachineEntry,
    readonly snapshot: { name: string; createdAt: string; bytes: number },
  ) {
    super(snapshot.name, vscode.TreeItemCollapsibleState.None);
    this.id = `snapshot:${machine.vagrantfile}#${machine.name}/${snapshot.name}`;
    this.description = `${new Date(snapshot.createdAt).toLocaleString()} · ${(snapshot.bytes / 1048576).toFixed(1)} MiB`;
    this.iconPath = new vscode.ThemeIcon("device-camera");
    this.contextValue = "snapshot";
  }
}

/** A folder or file of a running machine (the "Files" child and below), over SFTP; files open editable. */
export class MachineFileItem extends vscode.TreeItem {
  constructor(
    readonly machine: MachineEntry,
    readonly uri: vscode.Uri,
    folder: boolean,
    label?: string,
  ) {
    super(label ?? (posix.basename(uri.path) || "/"), folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    this.id = `machine-file:${machine.vagrantfile}#${machine.name}:${uri.path}`;
    this.resourceUri = uri;
    if (label) this.iconPath = new vscode.ThemeIcon("files");
    this.contextValue = folder ? "machineFolder" : "machineFile";
    if (!folder) this.command = { command: "vscode.open", title: "Open", arguments: [uri] };
  }
}

/** Why a machine folder shows nothing (the machine stopped, a permission). */
class MachineFilesProblemItem extends vscode.TreeItem {
  constructor(message: string) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.iconPath = new vscode.ThemeIcon("warning", new vscode.ThemeColor("problemsWarningIcon.foreground"));
  }
}

/** A Vagrantfile's machines, when the workspace has several (or for machines elsewhere). */
export class ProjectItem extends vscode.TreeItem {
  constructor(
    readonly project: ProjectEntry,
    label: string,
  ) {
    super(label, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `project:${project.vagrantfile}`;
    this.description = project.restricted ? "Restricted Mode" : project.error ? "has errors" : `${project.machines.filter((m) => m.state === "running").length}/${project.machines.length} running`;
    this.iconPath = new vscode.ThemeIcon(project.error ? "error" : project.vagrantfile ? "file-code" : "globe");
    if (project.vagrantfile) this.resourceUri = vscode.Uri.file(project.vagrantfile);
    this.tooltip = project.error ?? (project.vagrantfile || "Machines of Vagrantfiles outside this workspace (global index)");
    this.contextValue = "project";
  }
}

/** Why a Vagrantfile shows no machines; opens it. */
export class ProblemItem extends vscode.TreeItem {
  constructor(vagrantfile: string, message: string) {
    super("The Vagrantfile has errors", vscode.TreeItemCollapsibleState.None);
    this.description = message.split("\n")[0];
    this.tooltip = message;
    this.iconPath = new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground"));
    this.command = { command: "vscode.open", title: "Open Vagrantfile", arguments: [vscode.Uri.file(vagrantfile)] };
  }
}

/** Restricted Mode: why a Vagrantfile shows no machines; opens the trust editor. */
export class RestrictedItem extends vscode.TreeItem {
  constructor(vagrantfile: string) {
    super("Restricted Mode: Vagrantfile not evaluated", vscode.TreeItemCollapsibleState.None);
    this.description = "trust this workspace to see its machines";
    this.tooltip = `Hangar evaluates no Vagrantfile (it is Ruby code) in a workspace you have not trusted: ${vagrantfile}. Click to manage workspace trust.`;
    this.iconPath = new vscode.ThemeIcon("workspace-untrusted");
    this.command = { command: MANAGE_TRUST_COMMAND, title: "Manage Workspace Trust" };
  }
}

type Node = MachineItem | SnapshotItem | ProjectItem | ProblemItem | RestrictedItem | MachineFileItem | MachineFilesProblemItem;

/**
 * The Machines view: the workspace's machines (grouped by Vagrantfile when
 * there are several) and the global index's machines from elsewhere.
 * Reads state only when VS Code asks (the view is visible) and refreshes on
 * WorkspaceMachines' change events.
 */
export class MachinesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** The last machines shown, for tests and the status bar. */
  lastShown: MachineEntry[] = [];

  constructor(private readonly machines: WorkspaceMachines) {
    this.subscription = machines.onDidChange(() => this.changed.fire(undefined));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item instanceof MachineItem)
      return [
        ...(item.machine.state === "running" ? [new MachineFileItem(item.machine, machineFileUri(item.machine, "/"), true, "Files")] : []),
        ...item.machine.snapshots.map((s) => new SnapshotItem(item.machine, s)),
      ];
    if (item instanceof MachineFileItem) {
      try {
        const entries = await vscode.workspace.fs.readDirectory(item.uri);
        return entries.map(([name, type]) => new MachineFileItem(item.machine, item.uri.with({ path: posix.join(item.uri.path, name) }), (type & vscode.FileType.Directory) !== 0));
      } catch (err) {
        return [new MachineFilesProblemItem(errorMessage(err))];
      }
    }
    if (item instanceof ProjectItem) return this.machineNodes(item.project);
    if (item) return [];
    const projects = await this.machines.projects();
    const elsewhere = await this.machines.elsewhere();
    this.lastShown = [...projects.flatMap((p) => p.machines), ...elsewhere];
    const roots: Node[] = [];
    if (projects.length === 1 && !elsewhere.length) return this.machineNodes(projects[0]);
    for (const p of projects) roots.push(new ProjectItem(p, vscode.workspace.asRelativePath(p.vagrantfile, (vscode.workspace.workspaceFolders?.length ?? 0) > 1)));
    if (elsewhere.length) roots.push(new ProjectItem({ vagrantfile: "", machines: elsewhere }, "Other machines"));
    return roots;
  }

  private machineNodes(project: ProjectEntry): Node[] {
    if (project.restricted) return [new RestrictedItem(project.vagrantfile)];
    if (project.error) return [new ProblemItem(project.vagrantfile, project.error)];
    return project.machines.map((m) => new MachineItem(m));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
