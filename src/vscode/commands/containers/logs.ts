import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

export const containerLogs: HangarCommand = {
  id: "hangar.container.logs",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Show the logs of which container?");
    hangar.dockerTerminals.logs(target.id, target.name);
    return target.id;
  },
};
