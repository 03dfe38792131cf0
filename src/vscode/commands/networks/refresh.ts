import type { HangarCommand } from "../hangar-command";

export const refreshNetworks: HangarCommand = {
  id: "hangar.networks.refresh",
  run: ({ trees }) => trees.networks.refresh(),
};
