import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";

/**
 * The Docker endpoint in the status bar: its name, a warning when it cannot
 * be reached, and a click to choose another. Shown once the Docker views or
 * a Dockerfile have been opened, so machine-only users do not see it.
 */
export class DockerEndpointStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hangar.dockerEndpoint", vscode.StatusBarAlignment.Left, 40);
  private readonly disposables: vscode.Disposable[] = [];
  private shown = false;

  constructor(
    private readonly hangar: HangarContext,
    views: vscode.TreeView<vscode.TreeItem>[],
  ) {
    this.item.name = "Hangar Docker Endpoint";
    this.item.command = "hangar.docker.selectEndpoint";
    for (const view of views) {
      if (view.visible) this.show();
      this.disposables.push(view.onDidChangeVisibility((e) => e.visible && this.show()));
    }
    const onEditor = (e: vscode.TextEditor | undefined): void => {
      if (e?.document.languageId === "dockerfile") this.show();
    };
    onEditor(vscode.window.activeTextEditor);
    this.disposables.push(vscode.window.onDidChangeActiveTextEditor(onEditor));
  }

  private show(): void {
    if (this.shown) return;
    this.shown = true;
    const docker = this.hangar.docker;
    this.disposables.push(
      docker.onDidChangeEndpoint(() => void this.update()),
      docker.onDidChangeState(() => void this.update()),
    );
    void this.update();
    this.item.show();
  }

  private async update(): Promise<void> {
    const docker = this.hangar.docker;
    const endpoint = await docker.endpoint();
    const state = docker.state;
    const icon = state.kind === "unreachable" ? "$(warning)" : state.kind === "connecting" ? "$(sync~spin)" : "$(server-environment)";
    this.item.text = `${icon} ${endpoint.name}`;
    this.item.backgroundColor = state.kind === "unreachable" ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    const detail =
      state.kind === "ready"
        ? `Docker Engine ${state.version}`
        : state.kind === "unreachable"
          ? `Cannot reach it: ${state.message}`
          : state.kind === "connecting"
            ? "Connecting…"
            : "Not connected yet";
    this.item.tooltip = new vscode.MarkdownString(`**Docker endpoint:** ${endpoint.name}\n\n\`${endpoint.host}\`\n\n${detail}\n\nClick to choose another.`);
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
