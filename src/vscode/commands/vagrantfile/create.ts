import { vagrantfileTemplate } from "../../../core/templates/project-templates";
import type { HangarCommand } from "../hangar-command";
import { createProjectFile } from "../project-file";

export const createVagrantfile: HangarCommand = {
  id: "hangar.vagrantfile.create",
  run: () => createProjectFile("Vagrantfile", vagrantfileTemplate()),
};
