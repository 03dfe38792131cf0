import type { HangarCommand } from "../hangar-command";
import { networkTarget } from "./network-target";

export const inspectNetwork: HangarCommand = {
  id: "hangar.network.inspect",
  async run({ hangar }, arg?: unknown) {
    const network = await networkTarget(hangar, arg, "Inspect which network?");
    const info = await hangar.docker.use(`Inspecting network ${network.ref}`, (d) => d.getNetwork(network.id ?? network.ref).inspect());
    await hangar.inspectDocuments.show("network", network.ref, info);
    return info;
  },
};
