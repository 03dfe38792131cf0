import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

export const haltMachine = machineCommand({
  id: "hangar.machine.halt",
  requiresTrust: MACHINE_COMMANDS,
  verb: "halt",
  allowed: (m) => m.state === "running",
  async run(context, target) {
    await runMachineOperation(context, target, `halting '${target.name}'`, (c) => c.project.halt([target.name]));
  },
});
