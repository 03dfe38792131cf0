import { machineOperationCommand } from "./machine-operation";

/** `up` of a saved machine: restores its saved state (cancellable, as up is). */
export const resumeMachine = machineOperationCommand({
  id: "hangar.machine.resume",
  verb: "resume",
  allowed: (m) => m.state === "saved",
  title: (name) => `resuming '${name}'`,
  operation: (c, name) => c.up(name),
  cancellable: true,
});
