import type { HangarCommand } from "../hangar-command";
import { selectEndpoint } from "../docker/select-endpoint";

/**
 * Makes a Docker endpoint the current one (from the Contexts view's item, an
 * endpoint ID, or a pick): the Images, Containers, Networks and Volumes views follow.
 */
export const useContext: HangarCommand = {
  id: "hangar.context.use",
  run(context, arg?: unknown) {
    const item = arg as { endpoint?: { id: string } } | string | undefined;
    return selectEndpoint.run(context, typeof item === "string" ? item : item?.endpoint?.id);
  },
};
