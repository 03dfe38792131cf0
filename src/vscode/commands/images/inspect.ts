import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";

export const inspectImage: HangarCommand = {
  id: "hangar.image.inspect",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Inspect which image?");
    const info = await hangar.docker.use(`Inspecting ${image.ref}`, (d) => d.getImage(image.ref).inspect());
    await hangar.inspectDocuments.show("image", image.ref, info);
  },
};
