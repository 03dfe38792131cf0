import type { HangarCommand } from "../hangar-command";

export const refreshMachines: HangarCommand = {
  id: "hangar.machines.refresh",
  run({ hangar }) {
    hangar.machines.refresh();
  },
};
