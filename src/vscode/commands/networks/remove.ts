import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { isPredefinedNetwork, networkMembers, type NetworkSummary } from "../../../core/docker/listing/resource-usage";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { networkTarget } from "./network-target";

/**
 * Removes a network after a confirmation (`{ confirm: false }` skips it).
 * A predefined network, or one a running container is on, is refused with
 * the containers named, before anything is asked of the engine.
 */
export const removeNetwork: HangarCommand = {
  id: "hangar.network.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const target = await networkTarget(hangar, arg, "Remove which network?", (n) => !isPredefinedNetwork(n));
    const { network, running } = await hangar.docker.use(`Removing network ${target.ref}`, async (d) => {
      const all = (await d.listNetworks()) as NetworkSummary[];
      const found = all.find((n) => n.Id === target.id || n.Name === target.ref) ?? all.find((n) => n.Id.startsWith(target.ref));
      if (!found) throw new HangarError(`There is no network "${target.ref}".`, "Refresh the Networks view.");
      return { network: found, running: networkMembers(found, await d.listContainers({ all: true })).filter((c) => c.State === "running" || c.State === "paused") };
    });
    if (isPredefinedNetwork(network)) throw new HangarError(`${network.Name} is a predefined network: Docker does not remove it.`);
    if (running.length)
      throw new HangarError(
        `Network ${network.Name} is in use by ${running.length === 1 ? "container" : "containers"} ${running.map(containerName).join(", ")}.`,
        "Stop them or disconnect them from it first.",
      );
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage(`Remove network ${network.Name}?`, { modal: true, detail: `${network.Driver ?? ""} network ${network.Id.slice(0, 12)}` }, "Remove");
      if (choice !== "Remove") return false;
    }
    await hangar.docker.use(`Removing network ${network.Name}`, (d) => d.getNetwork(network.Id).remove());
    return true;
  },
};
