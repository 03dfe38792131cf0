import type { HangarCommand } from "../hangar-command";
import { runComposeVerb } from "./compose-operation";

export const composeDown: HangarCommand = {
  id: "hangar.compose.down",
  requiresTrust: "Running Compose from this workspace",
  run: (context, arg?: unknown, selected?: unknown) => runComposeVerb(context, "down", "Compose Down", arg, selected),
};
