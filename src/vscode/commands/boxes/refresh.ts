import type { HangarCommand } from "../hangar-command";

export const refreshBoxes: HangarCommand = {
  id: "hangar.boxes.refresh",
  run({ trees }) {
    trees.boxes.refresh();
  },
};
