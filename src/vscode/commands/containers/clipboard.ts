import * as vscode from "vscode";
import type { HangarContext } from "../../hangar-context";

/** Copies a container's ID, name or address, and says what was copied (status bar and log). */
export async function copyToClipboard(hangar: HangarContext, text: string, what: string): Promise<string> {
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied ${what}: ${text}`, 3000);
  hangar.log.info(`Copied ${what}: ${text}`);
  return text;
}
