import { machineCommand } from "./machine-command";
import { MACHINE_COMMANDS, runMachineOperation } from "./machine-operation";

/** halt then up, in one cancellable operation. */
export const reloadMachine = machineCommand({
  id: "hangar.machine.reload",
  requiresTrust: MACHINE_COMMANDS,
  verb: "reload",
  allowed: (m) => m.state !== "not_created",
  async run(context, target) {
    await runMachineOperation(
      context,
      target,
      `reloading '${target.name}'`,
      async (c) => {
        await c.project.halt([target.name]);
        return c.up(target.name);
      },
      true,
    );
  },
});
