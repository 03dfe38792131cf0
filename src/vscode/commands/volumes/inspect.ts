import type { HangarCommand } from "../hangar-command";
import { volumeTarget } from "./volume-target";

export const inspectVolume: HangarCommand = {
  id: "hangar.volume.inspect",
  async run({ hangar }, arg?: unknown) {
    const name = await volumeTarget(hangar, arg, "Inspect which volume?");
    const info = await hangar.docker.use(`Inspecting volume ${name}`, (d) => d.getVolume(name).inspect());
    await hangar.inspectDocuments.show("volume", name, info);
    return info;
  },
};
