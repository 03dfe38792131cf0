import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

export const inspectContainer: HangarCommand = {
  id: "hangar.container.inspect",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Inspect which container?");
    const info = await hangar.docker.use(`Inspecting ${target.name}`, (d) => d.getContainer(target.id).inspect());
    await hangar.inspectDocuments.show("container", target.name, info);
  },
};
