import type { HangarCommand } from "../hangar-command";
import { copyToClipboard } from "./clipboard";
import { containerTarget } from "./container-target";

export const copyContainerName: HangarCommand = {
  id: "hangar.container.copyName",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the name of which container?");
    return copyToClipboard(hangar, t.name, "the container name");
  },
};
