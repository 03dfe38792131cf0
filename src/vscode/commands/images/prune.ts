import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";

export const pruneImages: HangarCommand = {
  id: "hangar.images.prune",
  async run({ hangar }, options?: unknown) {
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage("Remove all dangling images?", { modal: true, detail: "Untagged images no container uses are deleted." }, "Prune");
      if (choice !== "Prune") return undefined;
    }
    const result = (await hangar.docker.use("Pruning dangling images", (d) => d.pruneImages({ filters: { dangling: ["true"] } }))) as { ImagesDeleted?: unknown[] | null; SpaceReclaimed?: number };
    const count = result.ImagesDeleted?.length ?? 0;
    void vscode.window.showInformationMessage(`Pruned ${count} image item${count === 1 ? "" : "s"}, reclaimed ${((result.SpaceReclaimed ?? 0) / 1e6).toFixed(1)} MB.`);
    return result;
  },
};
