import * as vscode from "vscode";
import { vagrantfileTemplate } from "../../../core/templates/project-templates";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { createProjectFile } from "../project-file";

export const createVagrantfile: HangarCommand = {
  id: "hangar.vagrantfile.create",
  run() {
    // hangar.machines.defaultBox names the box a new Vagrantfile starts from (the embedded default box when empty); it goes into Ruby source, so only a box name passes.
    const box = vscode.workspace.getConfiguration("hangar").get<string>("machines.defaultBox")?.trim() || undefined;
    if (box && !/^[\w.-]+(\/[\w.-]+)?$/.test(box))
      throw new HangarError(`The setting hangar.machines.defaultBox is "${box}", which is not a box name.`, "Use letters, digits, '.', '_', '-' and one '/' (like hangar/debian-busybox).");
    return createProjectFile("Vagrantfile", vagrantfileTemplate(box));
  },
};
