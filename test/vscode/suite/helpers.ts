import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
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

/** The HANGAR_HOME with the default box the launchers provide (undefined: run without it, and skip what needs it). */
export const boxHome = process.env.HANGAR_TEST_BOX_HOME;
/** The Debian downloads the shared test box was built from (busybox-static among them), so engines make busybox offline. */
export const SHARED_CACHE = path.join(os.tmpdir(), "hangar-test-default-box", "cache");

/**
 * Points Hangar at `home` (the box home by default) for the embedded engine's
 * tests: 128 MiB, the memory the box's booted state was saved for, so the
 * engine machine resumes it instead of booting cold, and the shared download
 * cache. resetEngineHome() undoes the settings.
 */
export async function useEngineHome(home = boxHome!): Promise<void> {
  const config = vscode.workspace.getConfiguration("hangar");
  await config.update("engine.memory", 128, vscode.ConfigurationTarget.Global);
  await config.update("engine.startWithViews", true, vscode.ConfigurationTarget.Global);
  await fs.cp(SHARED_CACHE, path.join(home, "cache"), { recursive: true }).catch(() => undefined);
  await config.update("home", home, vscode.ConfigurationTarget.Global);
}

export async function resetEngineHome(): Promise<void> {
  const config = vscode.workspace.getConfiguration("hangar");
  await config.update("home", undefined, vscode.ConfigurationTarget.Global);
  await config.update("engine.memory", undefined, vscode.ConfigurationTarget.Global);
  // (the launcher's setting: no engine started by the views in the other suites' homes)
  await config.update("engine.startWithViews", false, vscode.ConfigurationTarget.Global);
}

/** Writes `lines` (joined by newlines) to `name` in the workspace's folder `dir`, made if missing: the folder and the file. */
export async function workspaceFile(dir: string, name: string, lines: string[]): Promise<{ folder: vscode.Uri; file: vscode.Uri }> {
  const folder = vscode.Uri.joinPath(workspaceRoot(), dir);
  await fs.mkdir(folder.fsPath, { recursive: true });
  const file = vscode.Uri.joinPath(folder, name);
  await fs.writeFile(file.fsPath, lines.join("\n"));
  return { folder, file };
}

/** A tree's children as the view would ask for them (the root's when `item` is undefined). */
export async function children(provider: vscode.TreeDataProvider<vscode.TreeItem>, item?: vscode.TreeItem): Promise<vscode.TreeItem[]> {
  return ((await provider.getChildren(item)) ?? []) as vscode.TreeItem[];
}

/** A tree item's label as text. */
export const labelOf = (i: vscode.TreeItem): string => String(typeof i.label === "object" ? i.label?.label : i.label);
