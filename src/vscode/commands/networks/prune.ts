import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";

/** Removes every network no container uses, after a confirmation (`{ confirm: false }` skips it); says which went. Returns their names. */
export const pruneNetworks: HangarCommand = {
  id: "hangar.networks.prune",
  async run({ hangar }, options?: unknown) {
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage(
        "Remove all unused networks?",
        { modal: true, detail: "Networks no container is attached to are deleted (bridge, host and none stay)." },
        "Prune",
      );
      if (choice !== "Prune") return undefined;
    }
    const result = (await hangar.docker.use("Pruning networks", (d) => d.pruneNetworks())) as { NetworksDeleted?: string[] | null };
    const deleted = result.NetworksDeleted ?? [];
    const message = deleted.length ? `Removed ${deleted.length} unused network${deleted.length === 1 ? "" : "s"}: ${deleted.join(", ")}.` : "No unused networks to remove.";
    hangar.log.info(message);
    void vscode.window.showInformationMessage(message);
    return deleted;
  },
};
