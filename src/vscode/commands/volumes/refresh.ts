import type { HangarCommand } from "../hangar-command";

export const refreshVolumes: HangarCommand = {
  id: "hangar.volumes.refresh",
  run: ({ trees }) => trees.volumes.refresh(),
};
