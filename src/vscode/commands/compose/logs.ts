import type { HangarCommand } from "../hangar-command";
import { openComposeLogs } from "./compose-operation";

export const composeLogs: HangarCommand = {
  id: "hangar.compose.logs",
  requiresTrust: "Running Compose from this workspace",
  run: (context, arg?: unknown, selected?: unknown) => openComposeLogs(context, arg, selected),
};
