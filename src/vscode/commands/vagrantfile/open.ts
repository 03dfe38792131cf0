import type { HangarCommand } from "../hangar-command";
import { openProjectFile } from "../project-file";

export const openVagrantfile: HangarCommand = {
  id: "hangar.vagrantfile.open",
  run: (env) => openProjectFile(env, "Vagrantfile", "hangar.vagrantfile.create"),
};
