import * as vscode from "vscode";
import { engineStatus, stopEngine } from "../../../core/api/engine-control";
import type { HangarCommand } from "../hangar-command";

/**
 * `hangar engine stop`: running containers stop (as when dockerd stops) and
 * the engine machine is suspended, so stopped containers keep their files.
 * Asks first, unless called with `{ confirm: false }`: every docker client of
 * this computer using the engine loses it.
 */
export const stopEmbeddedEngine: HangarCommand = {
  id: "hangar.engine.stop",
  async run({ hangar, withProgress }, options?: unknown) {
    const status = await engineStatus(hangar.hangarHome);
    if (!status.running) {
      void vscode.window.showInformationMessage("Hangar's engine is not running; nothing to stop.");
      return undefined;
    }
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const answer = await vscode.window.showWarningMessage(
        `Stop Hangar's container engine (pid ${status.pid ?? "?"})?`,
        { modal: true, detail: "Running containers are stopped; docker clients using it lose it until it starts again." },
        "Stop",
      );
      if (answer !== "Stop") return undefined;
    }
    // First, so the views' reconnection does not start it again.
    await hangar.docker.holdEmbedded(true);
    const pid = await withProgress({ title: "Hangar: stopping the container engine" }, () => stopEngine(hangar.hangarHome));
    hangar.log.info(`Stopped Hangar's container engine (pid ${pid ?? "?"}).`);
    void vscode.window.showInformationMessage("Hangar's engine is stopped; Start Container Engine starts it again.");
    return pid;
  },
};
