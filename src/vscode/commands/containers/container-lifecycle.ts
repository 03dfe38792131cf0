import type { Container } from "dockerode";
import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

type Action = (c: Container, signal: AbortSignal) => Promise<unknown>;

/**
 * A lifecycle command (start, stop, ...): on the container given or picked
 * among those in `states`, with a cancellable notification; the view follows
 * from the engine's events.
 */
export function containerLifecycleCommand(id: string, verb: string, states: string[] | undefined, action: Action): HangarCommand {
  return {
    id,
    async run({ hangar, withProgress }, arg?: unknown) {
      const target = await containerTarget(hangar, arg, `${verb} which container?`, states);
      const title = `${verb} ${target.name}`;
      await withProgress({ title, cancellable: true }, ({ signal }) => hangar.docker.use(title, (d) => action(d.getContainer(target.id), signal)));
      return target.id;
    },
  };
}
