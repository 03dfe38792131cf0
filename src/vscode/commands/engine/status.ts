import * as vscode from "vscode";
import { API_VERSION } from "../../../core/api/api-version";
import { engineStatus } from "../../../core/api/engine-control";
import type { HangarCommand } from "../hangar-command";

/** `hangar engine status`: running or stopped, where it listens, its pid, API version and log; Start/Stop/Show Log from the message. */
export const showEngineStatus: HangarCommand = {
  id: "hangar.engine.status",
  async run({ hangar }, options?: unknown) {
    const s = await engineStatus(hangar.hangarHome);
    if ((options as { show?: boolean } | undefined)?.show === false) return s;
    const text = s.running
      ? `Hangar's engine is running (pid ${s.pid ?? "unknown"}, Docker API ${s.apiVersion || API_VERSION}) on ${s.dockerHost}.`
      : `Hangar's engine is stopped (its socket would be ${s.dockerHost}).`;
    const actions = s.running ? ["Copy DOCKER_HOST", "Open Log", "Stop"] : ["Start", "Open Log"];
    void vscode.window.showInformationMessage(text, ...actions).then(async (choice) => {
      if (choice === "Copy DOCKER_HOST") await vscode.env.clipboard.writeText(s.dockerHost);
      if (choice === "Open Log") await vscode.window.showTextDocument(vscode.Uri.file(s.logFile));
      if (choice === "Start") await vscode.commands.executeCommand("hangar.engine.start");
      if (choice === "Stop") await vscode.commands.executeCommand("hangar.engine.stop");
    });
    return s;
  },
};
