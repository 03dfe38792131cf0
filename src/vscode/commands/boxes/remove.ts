import * as vscode from "vscode";
import { BoxStore, removeBox } from "../../../core/boxes/box-store";
import { MachineIndex } from "../../../core/machines/machine-index";
import { HangarError } from "../../../core/util/errors";
import { BoxItem } from "../../tree/boxes/boxes-tree";
import type { HangarCommand } from "../hangar-command";

/** Removes one box version; asks first (unless `{ confirm: false }`: tests, scripts), and says which machines use it when some do. */
export const removeBoxVersion: HangarCommand = {
  id: "hangar.box.remove",
  async run({ hangar, trees }, item?: unknown, options?: unknown) {
    if (!(item instanceof BoxItem)) throw new HangarError("Choose a box in the Boxes view to remove it.");
    const confirm = (options as { confirm?: boolean } | undefined)?.confirm !== false;
    const { name, version, provider } = item.box;
    const users = (await new MachineIndex(hangar.hangarHome).list()).filter((m) => m.box === name && m.state !== "not_created");
    const detail = users.length ? `Machines use it: ${users.map((u) => `${u.name} (${u.dir})`).join(", ")}. They cannot start again without it.` : "No machine uses it.";
    if (confirm && (await vscode.window.showWarningMessage(`Remove box ${name} ${version} (${provider})?`, { modal: true, detail }, "Remove")) !== "Remove") return [];
    const removed = await removeBox(new BoxStore(hangar.hangarHome), name, version, provider);
    hangar.log.info(`Removed box ${name} ${version} (${provider})`);
    trees.boxes.refresh();
    return removed;
  },
};
