import type { HangarCommand } from "../hangar-command";
import { copyToClipboard } from "./clipboard";
import { containerTarget } from "./container-target";

export const copyContainerId: HangarCommand = {
  id: "hangar.container.copyId",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the ID of which container?");
    return copyToClipboard(hangar, t.id, `the ID of ${t.name}`);
  },
};
