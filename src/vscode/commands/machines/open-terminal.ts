import { machineCommand } from "./machine-command";

/** Opens a Hangar terminal (a shell on a pty over the machine's SSH connection). */
export const openMachineTerminal = machineCommand({
  id: "hangar.machine.openTerminal",
  verb: "open a terminal",
  allowed: (m) => m.state === "running",
  async run({ hangar }, target) {
    const terminal = hangar.terminals.open(target);
    terminal.show();
    return terminal;
  },
});
