import * as vscode from "vscode";
import { machineOperationCommand } from "./machine-operation";

/**
 * `hangar rsync`: copies the machine's rsync-type synced folders into it
 * once (while VS Code is open they are followed anyway, as rsync-auto
 * follows them, unless `hangar.sync.autoRsync` is off).
 */
export const rsyncMachine = machineOperationCommand({
  id: "hangar.machine.rsync",
  verb: "sync its folders",
  allowed: (m) => m.state === "running",
  title: (name) => `copying rsync folders into '${name}'`,
  // Without `follow` the copy is over when syncFolders returns.
  operation: async (c, name) => (await c.project.syncFolders(name)).folders,
  after(_context, name, folders) {
    void vscode.window.showInformationMessage(folders.length ? `Copied ${folders.join(", ")} into '${name}'.` : `'${name}' has no rsync-type synced folders.`);
  },
});
