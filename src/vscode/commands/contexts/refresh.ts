import type { HangarCommand } from "../hangar-command";

export const refreshContexts: HangarCommand = {
  id: "hangar.contexts.refresh",
  run: ({ trees }) => trees.contexts.refresh(),
};
