import * as vscode from "vscode";
import { HangarError } from "../../../core/util/errors";
import { BoxItem } from "../../tree/boxes/boxes-tree";
import type { HangarCommand } from "../hangar-command";

/** Shows one box's folder in the OS file manager (desktop), or offers its path. */
export const revealBox: HangarCommand = {
  id: "hangar.box.reveal",
  async run(_env, item?: unknown) {
    if (!(item instanceof BoxItem)) throw new HangarError("Choose a box in the Boxes view.");
    if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
      await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(item.box.path));
    } else if ((await vscode.window.showInformationMessage(`The box is in ${item.box.path}`, "Copy Path")) === "Copy Path") {
      await vscode.env.clipboard.writeText(item.box.path);
    }
    return item.box.path;
  },
};
