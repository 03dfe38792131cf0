import * as vscode from "vscode";
import { startEngine } from "../../../core/api/engine-control";
import type { HangarCommand } from "../hangar-command";
import { engineStartOptions } from "./engine-settings";

/** `hangar engine start` with the `hangar.engine.*` settings: the embedded Docker Engine API on HANGAR_HOME's docker.sock. */
export const startEmbeddedEngine: HangarCommand = {
  id: "hangar.engine.start",
  async run({ hangar, withProgress }) {
    const { started, status } = await withProgress({ title: "Hangar: starting the container engine" }, () => startEngine(hangar.hangarHome, engineStartOptions()));
    hangar.log.info(`${started ? "Started" : "Already running:"} Hangar's container engine on ${status.dockerHost} (pid ${status.pid ?? "?"}).`);
    void vscode.window.showInformationMessage(`Hangar's engine ${started ? "is running" : "was already running"} on ${status.dockerHost}.`);
    // The views may start it themselves again, and reconnect now.
    await hangar.docker.holdEmbedded(false);
    return status;
  },
};
