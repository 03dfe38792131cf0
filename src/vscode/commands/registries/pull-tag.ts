import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";

/** Pull on a tag in the Registries view: the Images view's Pull with that reference. */
export const pullRegistryTag: HangarCommand = {
  id: "hangar.registry.pullTag",
  run(_context, item?: unknown) {
    const ref = (item as { ref?: string } | undefined)?.ref;
    if (!ref) return undefined;
    return vscode.commands.executeCommand("hangar.image.pull", ref);
  },
};
