import type { MachineEntry, MachineRef } from "../../workspace/workspace-machines";
import type { CommandContext, HangarCommand } from "../hangar-command";
import { machineTarget } from "./machine-target";

export interface MachineCommandSpec {
  id: string;
  requiresTrust?: string;
  /** The picker's verb ("start", "be destroyed"): "No machine can <verb> now". */
  verb: string;
  /** Which machines the picker offers (all by default). */
  allowed?: (m: MachineEntry) => boolean;
  /** What the command returns when no machine is chosen. */
  unchosen?: unknown;
  run(context: CommandContext, target: MachineRef, args: unknown[]): Promise<unknown>;
}

/** A command on one machine: the one it was invoked on (view item, CodeLens, ref), else the only or picked allowed one. */
export function machineCommand(spec: MachineCommandSpec): HangarCommand {
  return {
    id: spec.id,
    requiresTrust: spec.requiresTrust,
    async run(context, ...args) {
      const target = await machineTarget(context.hangar, args, spec.verb, spec.allowed);
      return target ? spec.run(context, target, args) : spec.unchosen;
    },
  };
}
