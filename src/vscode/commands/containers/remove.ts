import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

/** Removes a container after a confirmation (a running one is killed: the dialog says so). */
export const removeContainer: HangarCommand = {
  id: "hangar.container.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const target = await containerTarget(hangar, arg, "Remove which container?");
    const state = target.info?.State ?? ((await hangar.docker.use(`Inspecting ${target.name}`, (d) => d.getContainer(target.id).inspect())) as { State: { Status: string } }).State.Status;
    const running = state === "running" || state === "paused" || state === "restarting";
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false && vscode.workspace.getConfiguration("hangar").get<boolean>("containers.confirmRemove", true)) {
      const choice = await vscode.window.showWarningMessage(
        `Remove container ${target.name}?`,
        { modal: true, detail: running ? "It is running: it will be killed, and its writable layer deleted." : "Its writable layer is deleted; named volumes are kept." },
        "Remove",
      );
      if (choice !== "Remove") return false;
    }
    await hangar.docker.use(`Removing ${target.name}`, (d) => d.getContainer(target.id).remove({ force: running }));
    return true;
  },
};
