import * as vscode from "vscode";
import { machineCommand } from "./machine-command";

/**
 * `snapshot list`: the machine's snapshots, oldest first, in a quick pick;
 * picking one offers to restore it. `{ pick: false }` only returns them.
 */
export const listSnapshots = machineCommand({
  id: "hangar.machine.snapshotList",
  verb: "list snapshots",
  allowed: (m) => m.state !== "not_created",
  async run({ hangar }, target, args) {
    const list = await hangar.machines.project(target.vagrantfile).snapshots(target.name);
    if (args.some((a) => typeof a === "object" && a !== null && (a as { pick?: boolean }).pick === false)) return list;
    if (!list.length) {
      void vscode.window.showInformationMessage(`'${target.name}' has no snapshots.`);
      return list;
    }
    const pick = await vscode.window.showQuickPick(
      list.map((s) => ({ label: s.name, description: `${new Date(s.createdAt).toLocaleString()} · ${(s.bytes / 1048576).toFixed(1)} MiB`, snapshot: s })),
      { title: `Snapshots of '${target.name}'`, placeHolder: "Pick one to restore it" },
    );
    if (pick && (await vscode.window.showWarningMessage(`Restore '${target.name}' to snapshot '${pick.label}'?`, { modal: true }, "Restore")) === "Restore")
      await vscode.commands.executeCommand("hangar.snapshot.restore", { machine: target, snapshot: pick.snapshot });
    return list;
  },
});
