import type { HangarCommand } from "../hangar-command";

export const refreshContainers: HangarCommand = {
  id: "hangar.containers.refresh",
  run: ({ trees }) => trees.containers.refresh(),
};
