import { machineOperationCommand } from "./machine-operation";

/** halt then up, in one cancellable operation. */
export const reloadMachine = machineOperationCommand({
  id: "hangar.machine.reload",
  verb: "reload",
  allowed: (m) => m.state !== "not_created",
  title: (name) => `reloading '${name}'`,
  async operation(c, name) {
    await c.project.halt([name], false, c.signal);
    return c.up(name);
  },
  cancellable: true,
});
