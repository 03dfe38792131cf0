import type { HangarCommand } from "../hangar-command";
import { runComposeVerb } from "./compose-operation";

export const composeUp: HangarCommand = {
  id: "hangar.compose.up",
  requiresTrust: "Running Compose from this workspace",
  run: (context, arg?: unknown, selected?: unknown) => runComposeVerb(context, "up", "Compose Up", arg, selected),
};
