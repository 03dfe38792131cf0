import type { HangarCommand } from "../hangar-command";
import { runComposeVerb } from "./compose-operation";

export const composeDownVolumes: HangarCommand = {
  id: "hangar.compose.downVolumes",
  requiresTrust: "Running Compose from this workspace",
  run: (context, arg?: unknown, selected?: unknown) => runComposeVerb(context, "downVolumes", "Compose Down (Remove Volumes)", arg, selected),
};
