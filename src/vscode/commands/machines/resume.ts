import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** `up` of a saved machine: restores its saved state (cancellable, as up is). */
export const resumeMachine = machineCommand({
  id: "hangar.machine.resume",
  requiresTrust: MACHINE_COMMANDS,
  verb: "resume",
  allowed: (m) => m.state === "saved",
  async run(context, target) {
    await runMachineOperation(context, target, `resuming '${target.name}'`, (c) => c.up(target.name), true);
  },
});
