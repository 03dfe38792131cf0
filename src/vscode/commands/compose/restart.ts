import type { HangarCommand } from "../hangar-command";
import { runComposeVerb } from "./compose-operation";

export const composeRestart: HangarCommand = {
  id: "hangar.compose.restart",
  requiresTrust: "Running Compose from this workspace",
  run: (context, arg?: unknown, selected?: unknown) => runComposeVerb(context, "restart", "Compose Restart", arg, selected),
};
