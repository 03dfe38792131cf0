import * as vscode from "vscode";

/**
 * A view whose core service has not landed yet (machines, images, containers):
 * it has no items, so VS Code shows the view's welcome content, which offers
 * the real first step (create a Vagrantfile or Dockerfile).
 */
export class NoItemsTreeProvider implements vscode.TreeDataProvider<vscode.TreeItem> {
  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  getChildren(): vscode.TreeItem[] {
    return [];
  }
}
