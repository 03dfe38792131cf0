import type { HangarCommand } from "../hangar-command";
import { openProjectFile } from "../project-file";

export const openDockerfile: HangarCommand = {
  id: "hangar.dockerfile.open",
  run: (env) => openProjectFile(env, "Dockerfile", "hangar.dockerfile.create"),
};
