import * as vscode from "vscode";
import { containerFileUri } from "../../files/container-files";
import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

/** Opens a file of a container (read-only) from a file dialog over its file system, or the path given. */
export const browseContainerFiles: HangarCommand = {
  id: "hangar.container.browseFiles",
  async run({ hangar }, arg?: unknown, file?: unknown) {
    const t = await containerTarget(hangar, arg, "Browse the files of which container?");
    const uri = containerFileUri(t.id, typeof file === "string" ? file : "/");
    if (typeof file === "string") {
      await vscode.window.showTextDocument(uri, { preview: true });
      return uri.toString();
    }
    const picked = await vscode.window.showOpenDialog({ defaultUri: uri, canSelectFiles: true, canSelectFolders: false, title: `Files of ${t.name} (read-only)`, openLabel: "Open" });
    if (picked?.[0]) await vscode.window.showTextDocument(picked[0], { preview: true });
    return picked?.[0]?.toString();
  },
};
