import * as vscode from "vscode";
import { HangarError } from "../../../core/util/errors";
import { SnapshotItem } from "../../tree/machines/machines-tree";
import type { HangarCommand } from "../hangar-command";
import { machineTarget } from "./machine-target";
import { runMachineOperation } from "./machine-operation";

/** Saves the running machine's whole state under a name the user gives. */
export const saveSnapshot: HangarCommand = {
  id: "hangar.machine.snapshotSave",
  async run({ hangar }, ...args) {
    const target = await machineTarget(hangar, args, "take a snapshot", (m) => m.state === "running");
    if (!target) return undefined;
    const given = args.find((a): a is string => typeof a === "string" && a !== target.name);
    const name =
      given ??
      (await vscode.window.showInputBox({
        title: `Snapshot of '${target.name}'`,
        prompt: "Snapshot name",
        value: `snapshot-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "")}`,
        validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : "Letters, digits, '.', '_' and '-' only"),
      }));
    if (!name) return undefined;
    await runMachineOperation(hangar, target, `saving snapshot '${name}' of '${target.name}'`, (c) => c.project.snapshotSave(target.name, name));
    return name;
  },
};

function snapshotArg(args: unknown[]): Pick<SnapshotItem, "machine" | "snapshot"> {
  const item = args[0] as Partial<SnapshotItem> | undefined;
  if (!(item instanceof SnapshotItem) && !(item?.machine && item.snapshot)) throw new HangarError("Choose a snapshot in the Machines view (expand a machine to see its snapshots).");
  return item as Pick<SnapshotItem, "machine" | "snapshot">;
}

export const restoreSnapshot: HangarCommand = {
  id: "hangar.snapshot.restore",
  async run({ hangar }, ...args) {
    const item = snapshotArg(args);
    const { machine, snapshot } = item;
    await runMachineOperation(hangar, machine, `restoring '${machine.name}' to snapshot '${snapshot.name}'`, (c) => c.project.snapshotRestore(machine.name, snapshot.name, c.progress));
  },
};

export const deleteSnapshot: HangarCommand = {
  id: "hangar.snapshot.delete",
  async run({ hangar }, ...args) {
    const { machine, snapshot } = snapshotArg(args);
    const answer = await vscode.window.showWarningMessage(`Delete snapshot '${snapshot.name}' of '${machine.name}'?`, { modal: true }, "Delete");
    if (answer !== "Delete") return;
    await runMachineOperation(hangar, machine, `deleting snapshot '${snapshot.name}'`, (c) => c.project.snapshotDelete(machine.name, snapshot.name));
  },
};
