import * as path from "node:path";
import * as vscode from "vscode";
import { addBox } from "../../../core/boxes/box-archive";
import type { HangarCommand } from "../hangar-command";

/** Adds a box from a .box file or a folder with metadata.json (a broken box is refused whole). */
export const addBoxFromFile: HangarCommand = {
  id: "hangar.box.add",
  async run({ hangar, trees, withProgress }, source?: unknown) {
    const uri =
      source instanceof vscode.Uri
        ? source
        : (
            await vscode.window.showOpenDialog({
              title: "Add a box",
              openLabel: "Add Box",
              canSelectFiles: true,
              canSelectFolders: true,
              canSelectMany: false,
              filters: { "Vagrant box": ["box"], "All files": ["*"] },
            })
          )?.[0];
    if (!uri) return undefined;
    const suggested = path.basename(uri.fsPath).replace(/\.box$/, "");
    const name = await vscode.window.showInputBox({
      title: "Box name",
      prompt: "The name Vagrantfiles use in config.vm.box",
      value: suggested,
      validateInput: (v) => (/^[\w.-]+(\/[\w.-]+)?$/.test(v) ? undefined : "Letters, digits, '.', '_', '-' and one '/'"),
    });
    if (!name) return undefined;
    // Cancel removes what was unpacked: nothing is added.
    const dest = await withProgress({ title: `Hangar: adding box ${name}`, cancellable: true }, ({ signal }) => addBox(hangar.hangarHome, uri.fsPath, name, "0", false, signal));
    hangar.log.info(`Added box ${name} from ${uri.fsPath} in ${dest}`);
    trees.boxes.refresh();
    return dest;
  },
};
