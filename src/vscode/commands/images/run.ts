import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";

/** `docker run -d -P IMAGE`: detached, exposed ports published on free host ports; the Containers view shows it. */
export const runImage: HangarCommand = {
  id: "hangar.image.run",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Run which image?");
    return hangar.docker.use(`Running ${image.ref}`, async (d) => {
      const container = await d.createContainer({ Image: image.ref, HostConfig: { PublishAllPorts: true } });
      await container.start();
      const info = await container.inspect();
      hangar.log.info(`Started ${info.Name.slice(1)} (${info.Id.slice(0, 12)}) from ${image.ref}.`);
      return info.Id;
    });
  },
};
