import * as path from "node:path";
import * as vscode from "vscode";
import { MachineIndex } from "../../../core/machines/machine-index";
import type { HangarCommand } from "../hangar-command";

/**
 * `hangar global-status`: every machine of this HANGAR_HOME, whatever its
 * project, in a quick pick; picking one opens its Vagrantfile.
 * `{ pick: false }` only returns the list (tests, scripts).
 */
export const globalStatus: HangarCommand = {
  id: "hangar.machines.globalStatus",
  async run({ hangar }, options?: unknown) {
    const list = await new MachineIndex(hangar.hangarHome).list();
    if ((options as { pick?: boolean } | undefined)?.pick === false) return list;
    if (!list.length) {
      void vscode.window.showInformationMessage("There are no Hangar machines on this computer.");
      return list;
    }
    const pick = await vscode.window.showQuickPick(
      list.map((m) => ({ label: m.name, description: `${m.state.replace("_", " ")} · ${m.box}`, detail: m.dir, machine: m })),
      { title: "Hangar: every machine on this computer", placeHolder: "Pick one to open its Vagrantfile", matchOnDetail: true },
    );
    if (pick) await vscode.window.showTextDocument(vscode.Uri.file(path.join(pick.machine.dir, "Vagrantfile")));
    return list;
  },
};
