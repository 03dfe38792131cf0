import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { copyToClipboard } from "./clipboard";
import { containerTarget } from "./container-target";

export const copyContainerIp: HangarCommand = {
  id: "hangar.container.copyIp",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the IP address of which container?", ["running", "paused"]);
    const info = (await hangar.docker.use(`Inspecting ${t.name}`, (d) => d.getContainer(t.id).inspect())) as {
      NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> };
    };
    const ips = [info.NetworkSettings?.IPAddress, ...Object.values(info.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress)].filter((ip): ip is string => !!ip);
    if (!ips.length) throw new HangarError(`${t.name} has no IP address (is it on network "none", or stopped?).`);
    return copyToClipboard(hangar, ips[0], `the IP address of ${t.name}`);
  },
};
