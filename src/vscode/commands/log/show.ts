import type { HangarCommand } from "../hangar-command";

export const showLog: HangarCommand = {
  id: "hangar.showLog",
  run({ hangar }) {
    hangar.log.show(true);
  },
};
