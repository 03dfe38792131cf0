import type { HangarCommand } from "../hangar-command";

export const refreshImages: HangarCommand = {
  id: "hangar.images.refresh",
  run: ({ trees }) => trees.images.refresh(),
};
