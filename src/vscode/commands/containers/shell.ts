import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

export const containerShell: HangarCommand = {
  id: "hangar.container.shell",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Open a shell in which container?", ["running"]);
    hangar.dockerTerminals.shell(target.id, target.name);
    return target.id;
  },
};
