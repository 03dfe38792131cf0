import { existsSync } from "node:fs";
import * as vscode from "vscode";

export type ProjectFileName = "Vagrantfile" | "Dockerfile";
const NAMES: ProjectFileName[] = ["Vagrantfile", "Dockerfile"];
const EXCLUDE = "**/{node_modules,.git,.hangar,.vagrant}/**";

/**
 * Knows which Vagrantfiles and Dockerfiles the workspace holds and mirrors
 * that into the context keys `hangar.hasVagrantfile` / `hangar.hasDockerfile`
 * (the views' welcome content depends on them). The search starts only when
 * first needed (a view shown, a command run), never at activation, and then
 * follows VS Code's own file watcher instead of searching again.
 */
export class ProjectFiles implements vscode.Disposable {
  private files?: Promise<Map<ProjectFileName, vscode.Uri[]>>;
  private readonly disposables: vscode.Disposable[] = [];

  /**
   * All files of that name in the workspace, shallowest first. A folder
   * deleted as a whole is reported as one folder deletion, not per file:
   * files that are gone are left out here.
   */
  async find(name: ProjectFileName): Promise<vscode.Uri[]> {
    const list = (await this.load()).get(name) ?? [];
    return list.filter((u) => existsSync(u.fsPath));
  }

  /** Starts the search (if not started) so the context keys get set. */
  warmUp(): void {
    void this.load();
  }

  private load(): Promise<Map<ProjectFileName, vscode.Uri[]>> {
    this.files ??= this.search();
    return this.files;
  }

  private async search(): Promise<Map<ProjectFileName, vscode.Uri[]>> {
    const map = new Map<ProjectFileName, vscode.Uri[]>();
    for (const name of NAMES) {
      map.set(name, (await vscode.workspace.findFiles(`**/${name}`, EXCLUDE, 200)).sort(byDepthThenPath));
      const watcher = vscode.workspace.createFileSystemWatcher(`**/${name}`, false, true, false);
      watcher.onDidCreate((uri) => this.update(map, name, (list) => (list.some((u) => u.toString() === uri.toString()) ? list : [...list, uri])));
      // A folder deleted as a whole arrives as one event for the folder: whatever no longer exists goes.
      watcher.onDidDelete((uri) => this.update(map, name, (list) => list.filter((u) => u.toString() !== uri.toString() && existsSync(u.fsPath))));
      this.disposables.push(watcher);
      this.publish(map, name);
    }
    this.disposables.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.reset()));
    return map;
  }

  private update(map: Map<ProjectFileName, vscode.Uri[]>, name: ProjectFileName, change: (list: vscode.Uri[]) => vscode.Uri[]): void {
    map.set(name, change(map.get(name) ?? []).sort(byDepthThenPath));
    this.publish(map, name);
  }

  private publish(map: Map<ProjectFileName, vscode.Uri[]>, name: ProjectFileName): void {
    void vscode.commands.executeCommand("setContext", `hangar.has${name}`, (map.get(name)?.length ?? 0) > 0);
  }

  private reset(): void {
    this.disposeWatchers();
    this.files = undefined;
    this.warmUp();
  }

  private disposeWatchers(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  dispose(): void {
    this.disposeWatchers();
  }
}

/** The project's root file before those in subfolders, then by path. */
function byDepthThenPath(a: vscode.Uri, b: vscode.Uri): number {
  const depth = (u: vscode.Uri): number => u.path.split("/").length;
  return depth(a) - depth(b) || a.path.localeCompare(b.path);
}
