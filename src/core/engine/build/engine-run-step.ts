import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { HangarError } from "../../util/errors";
import type { EngineMachine } from "../machine/engine-machine";
import type { NetworkStore } from "../networks/network-store";
import { guestInterface, hostsFile, type GuestNetwork } from "../runtime/container-network";
import type { RunStep } from "./dockerfile-builder";

/**
 * A Dockerfile's RUN in the engine machine: a container of the parent image
 * runs the command (as the stage's USER), and its writable layer (but what
 * it changed inside the image's volumes) becomes the step's layer. As with
 * Docker's builder, the container is on the default bridge (so `RUN wget`,
 * `apk add` and the like reach the network) unless the build asks for
 * `--network none`; its address is given back when the step ends.
 */
export function engineRunStep(machine: EngineMachine, networks?: NetworkStore, networkMode: "bridge" | "none" = "bridge"): RunStep {
  const once = runOnce(machine, networks, networkMode);
  return {
    async run(o) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(o);
        } catch (err) {
          // A refused exec request ("Unable to exec": bookworm's dropbear on a busy engine machine, see
          // MachineSession.run). The step's container is its own and is thrown away with whatever the refused
          // attempt did, so the step starts again in a new one: nothing of the first attempt reaches the layer.
          if (attempt >= MAX_ATTEMPTS || !(err instanceof HangarError) || !/Unable to exec/.test(err.message)) throw err;
        }
      }
    },
  };
}

/** A RUN step tried at most this many times when the engine machine refuses to start its commands. */
const MAX_ATTEMPTS = 3;

function runOnce(machine: EngineMachine, networks: NetworkStore | undefined, networkMode: "bridge" | "none"): RunStep["run"] {
  return async (o) => {
    const runtime = await machine.runtime();
    const id = randomBytes(32).toString("hex");
    const hostname = id.slice(0, 12);
    let network: GuestNetwork | undefined;
    if (networks && networkMode !== "none") {
      const lease = networks.lease(networks.get("bridge").Id, id);
      network = { mode: "bridge", interfaces: [guestInterface(lease)], hosts: hostsFile({ ips: [lease.ip], names: [hostname] }, []), hostname, resolvConf: "" };
    }
    try {
      const exitCode = await runtime.run(
        { id, imageId: o.parentId, argv: o.argv, env: o.env, workingDir: o.workingDir || "/", user: o.user || undefined, hostname, ...(network ? { network } : {}) },
        { onStdout: o.onOutput, onStderr: o.onOutput },
      );
      const layerTar = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-run-")), "layer.tar");
      if (exitCode === 0) await runtime.diff(id, layerTar, o.parentId, o.volumes);
      return { layerTar, exitCode };
    } finally {
      await runtime.remove(id).catch(() => undefined);
      networks?.release(id);
    }
  };
}
