import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { volumeUsers } from "../../../core/docker/listing/resource-usage";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { volumeTarget } from "./volume-target";

/**
 * Removes a volume and its data after a confirmation (`{ confirm: false }`
 * skips it). A volume any container mounts, running or not, is refused with
 * the containers named, as Docker refuses it.
 */
export const removeVolume: HangarCommand = {
  id: "hangar.volume.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const name = await volumeTarget(hangar, arg, "Remove which volume?");
    const users = await hangar.docker.use(`Removing volume ${name}`, async (d) => volumeUsers({ Name: name }, await d.listContainers({ all: true })));
    if (users.length) throw new HangarError(`Volume ${name} is in use by ${users.length === 1 ? "container" : "containers"} ${users.map(containerName).join(", ")}.`, "Remove those containers first.");
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage(`Remove volume ${name}?`, { modal: true, detail: "Its data is deleted." }, "Remove");
      if (choice !== "Remove") return false;
    }
    await hangar.docker.use(`Removing volume ${name}`, (d) => d.getVolume(name).remove());
    return true;
  },
};
