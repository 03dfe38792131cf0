import { dockerfileTemplate } from "../../../core/templates/project-templates";
import type { HangarCommand } from "../hangar-command";
import { createProjectFile } from "../project-file";

export const createDockerfile: HangarCommand = {
  id: "hangar.dockerfile.create",
  run: () => createProjectFile("Dockerfile", dockerfileTemplate()),
};
