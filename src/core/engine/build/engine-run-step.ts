import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineMachine } from "../machine/engine-machine";
import type { RunStep } from "./dockerfile-builder";

/**
 * A Dockerfile's RUN in the engine machine: a container of the parent image
 * runs the command (as the stage's USER), and its writable layer (but what
 * it changed inside the image's volumes) becomes the step's layer.
 */
export function engineRunStep(machine: EngineMachine): RunStep {
  return {
    async run(o) {
      const runtime = await machine.runtime();
      const id = randomBytes(32).toString("hex");
      try {
        const exitCode = await runtime.run(
          { id, imageId: o.parentId, argv: o.argv, env: o.env, workingDir: o.workingDir || "/", user: o.user || undefined },
          { onStdout: o.onOutput, onStderr: o.onOutput },
        );
        const layerTar = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-run-")), "layer.tar");
        if (exitCode === 0) await runtime.diff(id, layerTar, o.parentId, o.volumes);
        return { layerTar, exitCode };
      } finally {
        await runtime.remove(id).catch(() => undefined);
      }
    },
  };
}
