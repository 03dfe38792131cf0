import type { HangarCommand } from "../hangar-command";
import { callerSignal, MACHINE_COMMANDS, runMachineOperation } from "../machines/machine-operation";
import { snapshotTarget } from "./snapshot-target";

export const restoreSnapshot: HangarCommand = {
  id: "hangar.snapshot.restore",
  requiresTrust: MACHINE_COMMANDS,
  async run(context, ...args) {
    const { machine, snapshot } = snapshotTarget(args);
    await runMachineOperation(
      context,
      machine,
      `restoring '${machine.name}' to snapshot '${snapshot.name}'`,
      (c) => c.project.snapshotRestore(machine.name, snapshot.name, c.progress, c.signal),
      true,
      callerSignal(args),
    );
  },
};
