import * as vscode from "vscode";
import { isEngineStopped } from "../docker/docker-service";

/**
 * Why a Docker view is empty: the endpoint cannot be reached (clicking offers
 * another endpoint), or Hangar's own engine is stopped (clicking starts it).
 */
export class DockerProblemItem extends vscode.TreeItem {
  constructor(endpointName: string, message: string) {
    const stopped = isEngineStopped(message);
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
