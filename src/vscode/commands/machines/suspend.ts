import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** Saves the running machine's state and stops it; up (or resume) restores it. */
export const suspendMachine = machineCommand({
  id: "hangar.machine.suspend",
  requiresTrust: MACHINE_COMMANDS,
  verb: "suspend",
  allowed: (m) => m.state === "running",
  async run(context, target) {
    await runMachineOperation(context, target, `suspending '${target.name}'`, (c) => c.project.suspend([target.name]));
  },
});
