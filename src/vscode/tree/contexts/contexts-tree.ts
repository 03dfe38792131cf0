import * as vscode from "vscode";
import type { DockerEndpoint } from "../../../core/docker/endpoints/docker-endpoint";
import { errorMessage } from "../../../core/util/errors";
import { SOURCE_LABEL } from "../../commands/docker/select-endpoint";
import type { DockerService, EndpointState } from "../../docker/docker-service";

function stateLabel(state: EndpointState): string {
  switch (state.kind) {
    case "ready":
      return state.version ? `connected · ${state.version}` : "connected";
    case "connecting":
      return "connecting…";
    case "unreachable":
      return "unreachable";
    default:
      return "";
  }
}

/**
 * One Docker endpoint. contextValue `dockerContext.current` for the one the
 * Docker views show, `dockerContext` for the others (Use selects it).
 */
export class ContextItem extends vscode.TreeItem {
  constructor(
    readonly endpoint: DockerEndpoint,
    current: boolean,
    state: EndpointState,
  ) {
    super(endpoint.name, vscode.TreeItemCollapsibleState.None);
    this.id = `context:${endpoint.id}`;
    // The current one says how it answers; the others where they are (the tooltip has both).
    this.description = current ? ["current", stateLabel(state)].filter(Boolean).join(" · ") : endpoint.host;
    this.iconPath = current
      ? new vscode.ThemeIcon(state.kind === "unreachable" ? "warning" : "pass-filled", new vscode.ThemeColor(state.kind === "unreachable" ? "problemsWarningIcon.foreground" : "testing.iconPassed"))
      : new vscode.ThemeIcon("server-environment");
    this.contextValue = current ? "dockerContext.current" : "dockerContext";
    this.tooltip = new vscode.MarkdownString(
      [
        `**${endpoint.name}**${current ? " (current)" : ""}`,
        `Host: \`${endpoint.host}\``,
        `From: ${SOURCE_LABEL[endpoint.source]}`,
        ...(endpoint.tls ? ["TLS"] : []),
        ...(current && state.kind === "unreachable" ? [state.message] : []),
      ].join("\n\n"),
    );
    if (!current) this.command = { command: "hangar.context.use", title: "Use", arguments: [endpoint.id] };
  }
}

/** Why the endpoints could not be listed (a broken Docker context file, a bad setting). */
class ContextProblemItem extends vscode.TreeItem {
  constructor(message: string) {
    super("Cannot list Docker endpoints", vscode.TreeItemCollapsibleState.None);
    this.description = message;
    this.tooltip = message;
    this.iconPath = new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground"));
  }
}

type Node = ContextItem | ContextProblemItem;

/**
 * The Contexts view: the Docker endpoints this computer knows (the embedded
 * engine, DOCKER_HOST, the local socket, docker CLI contexts, the
 * `hangar.docker.endpoints` setting), the current one marked with its state.
 * Clicking another makes it current; the Docker views follow.
 */
export class ContextsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The endpoints last listed, for tests. */
  lastShown: DockerEndpoint[] = [];

  constructor(private readonly docker: DockerService) {
    // reset() fires onDidChangeEndpoint for a selection and for changed settings alike.
    this.subscriptions = [docker.onDidChangeEndpoint(() => this.refresh()), docker.onDidChangeState(() => this.refresh())];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item) return [];
    try {
      const [all, current] = await Promise.all([this.docker.endpoints(), this.docker.endpoint()]);
      this.lastShown = all;
      return all.map((e) => new ContextItem(e, e.id === current.id, this.docker.state));
    } catch (err) {
      return [new ContextProblemItem(errorMessage(err))];
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
