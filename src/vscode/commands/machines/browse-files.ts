import * as vscode from "vscode";
import { machineCommand } from "./machine-command";

/**
 * Opens a file of a running machine (editable, over SFTP) from a file dialog
 * over its file system, or the path given (`hangar.machine.browseFiles`, ref, "/etc/hosts").
 */
export const browseMachineFiles = machineCommand({
  id: "hangar.machine.browseFiles",
  verb: "browse its files",
  allowed: (m) => m.state === "running",
  async run({ trees }, target, args) {
    const file = args.find((a, i) => i > 0 && typeof a === "string") as string | undefined;
    const uri = trees.machineFiles.uri(target, file ?? "/");
    if (file !== undefined) {
      await vscode.window.showTextDocument(uri, { preview: true });
      return uri.toString();
    }
    const picked = await vscode.window.showOpenDialog({ defaultUri: uri, canSelectFiles: true, canSelectFolders: false, title: `Files of machine ${target.name}`, openLabel: "Open" });
    if (picked?.[0]) await vscode.window.showTextDocument(picked[0], { preview: true });
    return picked?.[0]?.toString();
  },
});
