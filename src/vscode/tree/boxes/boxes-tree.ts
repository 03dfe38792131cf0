import * as vscode from "vscode";
import type { BoxEntry } from "../../../core/boxes/box-store";
import type { HangarContext } from "../../hangar-context";

/** One box version/provider. contextValue `box` (or `box.broken`) drives the context menu. */
export class BoxItem extends vscode.TreeItem {
  constructor(readonly box: BoxEntry) {
    super(box.name, vscode.TreeItemCollapsibleState.None);
    this.id = `box:${box.name}@${box.version}/${box.provider}`;
    this.description = `${box.version} · ${box.provider}`;
    this.tooltip = new vscode.MarkdownString(`**${box.name}** ${box.version} (${box.provider})\n\n\`${box.path}\`${box.problem ? `\n\n$(warning) ${box.problem}` : ""}`, true);
    this.iconPath = new vscode.ThemeIcon(box.problem ? "warning" : "package");
    this.contextValue = box.problem ? "box.broken" : "box";
    this.resourceUri = vscode.Uri.file(box.path);
  }
}

/**
 * Lists the box store. Reads the disk only when VS Code asks for children,
 * i.e. when the view is visible; refresh() is called after box operations.
 */
export class BoxesTreeProvider implements vscode.TreeDataProvider<BoxItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<BoxItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly hangar: HangarContext) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: BoxItem): BoxItem {
    return item;
  }

  async getChildren(item?: BoxItem): Promise<BoxItem[]> {
    if (item) return [];
    try {
      return (await this.hangar.boxes.list()).map((b) => new BoxItem(b));
    } catch (err) {
      this.hangar.log.error("Listing boxes failed", err);
      void vscode.window.showErrorMessage(`Hangar could not list boxes in ${this.hangar.boxes.root}: ${(err as Error).message}`);
      return [];
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
