import * as vscode from "vscode";
import { machineCommand } from "./machine-command";

/**
 * `hangar console` in a terminal: the running machine's serial console (a
 * root shell, the boot log before it), for when SSH cannot help. Keys go to
 * the console; closing the terminal detaches, the machine runs on.
 */
export const openMachineConsole = machineCommand({
  id: "hangar.machine.console",
  verb: "show its console",
  allowed: (m) => m.state === "running",
  async run({ hangar }, target) {
    const project = hangar.machines.project(target.vagrantfile);
    const write = new vscode.EventEmitter<string>();
    const closed = new vscode.EventEmitter<number | void>();
    let attached: Awaited<ReturnType<typeof project.console>> | undefined;
    const pty: vscode.Pseudoterminal = {
      onDidWrite: write.event,
      onDidClose: closed.event,
      async open() {
        write.fire(`\x1b[2mSerial console of '${target.name}' (close the terminal to detach)\x1b[0m\r\n`);
        try {
          // A serial line sends bare \n after some programs' output: a terminal wants \r\n.
          attached = await project.console(target.name, (text) => write.fire(text.replace(/\r?\n/g, "\r\n")));
        } catch (err) {
          write.fire(`\r\n${(err as Error).message}\r\n`);
          return;
        }
        void attached.done.then(() => {
          write.fire(`\r\n\x1b[2m'${target.name}' stopped; the console is closed.\x1b[0m\r\n`);
          closed.fire(0);
        });
      },
      handleInput: (data) => attached?.type(data),
      close: () => attached?.close(),
    };
    const terminal = vscode.window.createTerminal({ name: `${target.name} (console)`, pty, iconPath: new vscode.ThemeIcon("debug-console") });
    terminal.show();
    return terminal;
  },
});
