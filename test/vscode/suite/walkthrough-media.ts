import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { EXTENSION_ID } from "./helpers";
import { uiBridgeAvailable } from "./ui-bridge";

/** Set to remake the walkthrough's images (media/walkthrough/*.png) from a run's screenshots; CI leaves it unset. */
export const remakeWalkthroughMedia = process.env.HANGAR_WALKTHROUGH_MEDIA === "1" && uiBridgeAvailable;

/** Copies a screenshot of this run to media/walkthrough/<name>.png, refusing one too big for the package. */
export async function keepAsWalkthroughMedia(shot: string, name: string): Promise<void> {
  const bytes = (await fs.stat(shot)).size;
  assert.ok(bytes <= 150 * 1024, `${shot} is ${bytes} bytes: crop it to at most 150 KB`);
  const target = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, "media", "walkthrough", `${name}.png`);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(shot, target);
  console.log(`    walkthrough media: ${target} (${bytes} bytes)`);
}

/** One view of the Hangar side bar (its header and body), to crop a screenshot to it. */
export function viewPane(title: string): string {
  return `.part.sidebar .pane:has(.pane-header:has-text("${title}"))`;
}
