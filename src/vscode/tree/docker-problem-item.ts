import * as vscode from "vscode";

/** Why the Images or Containers view is empty: the endpoint cannot be reached. Clicking offers another endpoint. */
export class DockerProblemItem extends vscode.TreeItem {
  constructor(endpointName: string, message: string) {
    super(`Cannot reach ${endpointName}`, vscode.TreeItemCollapsibleState.None);
    this.description = message;
    this.tooltip = new vscode.MarkdownString(`**Cannot reach ${endpointName}**\n\n${message}\n\nClick to choose another Docker endpoint; the view refreshes by itself when this one answers again.`);
    this.iconPath = new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground"));
    this.contextValue = "dockerProblem";
    this.command = { command: "hangar.docker.selectEndpoint", title: "Choose Docker Endpoint" };
  }
}
