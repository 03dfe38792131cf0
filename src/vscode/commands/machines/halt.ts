import { machineOperationCommand } from "./machine-operation";

export const haltMachine = machineOperationCommand({
  id: "hangar.machine.halt",
  verb: "halt",
  allowed: (m) => m.state === "running",
  title: (name) => `halting '${name}'`,
  operation: (c, name) => c.project.halt([name], false, c.signal),
  cancellable: true,
});
