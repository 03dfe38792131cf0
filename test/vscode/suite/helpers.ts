import * as vscode from "vscode";
import type { HangarApi } from "../../../src/extension";

export const EXTENSION_ID = "hangar-dev.hangar";

export async function activateHangar(): Promise<HangarApi> {
  const ext = vscode.extensions.getExtension<HangarApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded in this VS Code.`);
  return ext.activate();
}

/** what: a description, or a function that describes the state at the moment of failure. */
export async function until(pred: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}.`);
}

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("The tests need a workspace folder (the launchers open a copy of samples/workspace).");
  return folder.uri;
}
