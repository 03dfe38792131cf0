import * as vscode from "vscode";
import { errorMessage } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";

type PruneResult = { VolumesDeleted?: string[] | null; SpaceReclaimed?: number };

/**
 * Removes every volume no container uses, named ones too, after a
 * confirmation (`{ confirm: false }` skips it); says which went. Docker
 * Engine 23+ prunes only anonymous volumes unless asked for `all`, which
 * older engines do not know (they prune every unused volume anyway).
 */
export const pruneVolumes: HangarCommand = {
  id: "hangar.volumes.prune",
  async run({ hangar }, options?: unknown) {
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage("Remove all unused volumes?", { modal: true, detail: "Volumes no container uses are deleted with their data." }, "Prune");
      if (choice !== "Prune") return undefined;
    }
    const result = (await hangar.docker.use("Pruning volumes", async (d) => {
      try {
        return await d.pruneVolumes({ filters: { all: ["true"] } });
      } catch (err) {
        if (!/invalid filter/i.test(errorMessage(err))) throw err;
        return d.pruneVolumes();
      }
    })) as PruneResult;
    const deleted = result.VolumesDeleted ?? [];
    const message = deleted.length
      ? `Removed ${deleted.length} unused volume${deleted.length === 1 ? "" : "s"} (${((result.SpaceReclaimed ?? 0) / 1e6).toFixed(1)} MB): ${deleted.join(", ")}.`
      : "No unused volumes to remove.";
    hangar.log.info(message);
    void vscode.window.showInformationMessage(message);
    return deleted;
  },
};
