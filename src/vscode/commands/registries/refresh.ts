import type { HangarCommand } from "../hangar-command";

export const refreshRegistries: HangarCommand = {
  id: "hangar.registries.refresh",
  run({ trees }) {
    trees.registries.refresh();
  },
};
