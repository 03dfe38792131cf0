import * as vscode from "vscode";

/** What the embedded engine's messages start with when it is stopped (held by Stop Container Engine, or not started by the views). */
const ENGINE_STOPPED = /^Hangar's container engine is (stopped|not running)\./;

/**
 * Why a Docker view is empty: the endpoint cannot be reached (clicking offers
 * another endpoint), or Hangar's own engine is stopped (clicking starts it).
 */
export class DockerProblemItem extends vscode.TreeItem {
  constructor(endpointName: string, message: string) {
    const stopped = ENGINE_STOPPED.test(message);
    const title = stopped ? "Container engine stopped" : `Cannot reach ${endpointName}`;
    super(title, vscode.TreeItemCollapsibleState.None);
    this.description = message;
    const click = stopped ? "Click to start it" : "Click to choose another Docker endpoint";
    this.tooltip = new vscode.MarkdownString(`**${title}**\n\n${message}\n\n${click}; the view refreshes by itself when the engine answers again.`);
    this.iconPath = stopped ? new vscode.ThemeIcon("debug-stop") : new vscode.ThemeIcon("error", new vscode.ThemeColor("problemsErrorIcon.foreground"));
    this.contextValue = "dockerProblem";
    this.command = stopped ? { command: "hangar.engine.start", title: "Start Container Engine" } : { command: "hangar.docker.selectEndpoint", title: "Choose Docker Endpoint" };
  }
}
