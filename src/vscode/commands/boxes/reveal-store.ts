import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";

/** Opens the box store folder in the OS file manager (desktop); in a browser-hosted VS Code, offers its path. */
export const revealBoxStore: HangarCommand = {
  id: "hangar.boxes.revealStore",
  async run({ hangar }) {
    const root = hangar.boxes.root;
    await fs.mkdir(root, { recursive: true });
    if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
      await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(root));
      return root;
    }
    const choice = await vscode.window.showInformationMessage(`Boxes are stored in ${root}`, "Copy Path");
    if (choice === "Copy Path") await vscode.env.clipboard.writeText(root);
    return root;
  },
};
