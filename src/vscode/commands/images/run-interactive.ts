import type { Duplex } from "node:stream";
import { TtyPty } from "../../terminals/docker-terminals";
import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";

/** `docker run --rm -it IMAGE` in a terminal: its TTY follows the terminal; the container goes when it exits. */
export const runImageInteractive: HangarCommand = {
  id: "hangar.image.runInteractive",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Run which image in a terminal?");
    let containerId = "";
    hangar.dockerTerminals.open(
      new TtyPty(`${image.ref} (run)`, (dims) =>
        hangar.docker.use(`Running ${image.ref}`, async (d) => {
          const container = await d.createContainer({
            Image: image.ref,
            Tty: true,
            OpenStdin: true,
            StdinOnce: true,
            AttachStdin: true,
            AttachStdout: true,
            AttachStderr: true,
            Env: ["TERM=xterm-256color"],
            HostConfig: { AutoRemove: true, PublishAllPorts: true },
          });
          containerId = container.id;
          const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
          // Waiting from before the start, as the docker CLI does for --rm: the status is not lost to the removal.
          const exit = (container.wait({ condition: "removed" }) as Promise<{ StatusCode: number }>).then(
            (r) => r.StatusCode,
            () => 0,
          );
          await container.start();
          if (dims) await container.resize({ h: dims.rows, w: dims.columns }).catch(() => undefined);
          return {
            stream,
            resize: (s) => container.resize({ h: s.rows, w: s.columns }),
            exitCode: () => exit,
          };
        }),
      ),
      "play",
    );
    return containerId;
  },
};
