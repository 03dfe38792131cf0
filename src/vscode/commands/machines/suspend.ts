import { machineOperationCommand } from "./machine-operation";

/** Saves the running machine's state and stops it; up (or resume) restores it. */
export const suspendMachine = machineOperationCommand({
  id: "hangar.machine.suspend",
  verb: "suspend",
  allowed: (m) => m.state === "running",
  title: (name) => `suspending '${name}'`,
  operation: (c, name) => c.project.suspend([name], c.signal),
  cancellable: true,
});
