import * as vscode from "vscode";
import { HangarError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";
import { MachineItem, SnapshotItem } from "../../tree/machines/machines-tree";
import type { MachineEntry, MachineRef } from "../../workspace/workspace-machines";
import { requireTrust } from "../../workspace/workspace-trust";
import { MACHINE_COMMANDS } from "./machine-operation";

/**
 * The machine a command acts on: the tree item it was invoked on, a
 * (Vagrantfile Uri, name) pair from a CodeLens, or — from the palette — the
 * only machine, or the user's pick among the machines allowed for the verb.
 */
export async function machineTarget(hangar: HangarContext, args: unknown[], verb: string, allowed: (m: MachineEntry) => boolean = () => true): Promise<MachineRef | undefined> {
  const [first, second] = args;
  // Tree items arrive as they were created, or as plain copies when routed through the command service: look at their shape.
  if (first instanceof MachineItem || first instanceof SnapshotItem || (typeof first === "object" && first !== null && isRef((first as { machine?: unknown }).machine))) {
    const m = (first as { machine: MachineRef }).machine;
    return { vagrantfile: m.vagrantfile, name: m.name };
  }
  if (first instanceof vscode.Uri && typeof second === "string") return { vagrantfile: first.fsPath, name: second };
  if (isRef(first)) return first;
  // Listing the workspace's machines evaluates its Vagrantfiles: in Restricted Mode say so, not "no machines".
  requireTrust(MACHINE_COMMANDS);
  const all = await hangar.machines.all();
  const candidates = all.filter(allowed);
  if (!all.length) throw new HangarError("This workspace defines no machines.", "Create a Vagrantfile (Hangar: Create Vagrantfile) first.");
  if (!candidates.length) throw new HangarError(`No machine can ${verb} now (${all.map((m) => `${m.name}: ${m.state.replace("_", " ")}`).join(", ")}).`);
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((m) => ({ label: m.name, description: m.state.replace("_", " "), detail: vscode.workspace.asRelativePath(m.vagrantfile), machine: m })),
    { title: `Hangar: ${verb}`, placeHolder: "Choose a machine" },
  );
  return pick?.machine;
}

function isRef(x: unknown): x is MachineRef {
  return typeof x === "object" && x !== null && typeof (x as MachineRef).vagrantfile === "string" && typeof (x as MachineRef).name === "string";
}
