import * as path from "node:path";
import * as vscode from "vscode";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { BUILDING, buildDockerfile, lastTags, pickDockerfile } from "./image-build";
import { checkImageName } from "./image-name";

/**
 * Builds an image from a Dockerfile (the one given — explorer menu,
 * CodeLens — else the active editor's, else one picked from the
 * workspace), its folder as the context. The tag prompt remembers the last
 * tag per Dockerfile; the log streams into a terminal and the notification
 * shows the step, with Cancel aborting the build.
 */
export const buildImage: HangarCommand = {
  id: "hangar.image.build",
  // Checked before any prompt.
  requiresTrust: BUILDING,
  async run(context, arg?: unknown, options?: unknown) {
    const dockerfile = await chooseDockerfile(arg);
    const given = (options as { tag?: string } | undefined)?.tag;
    const tag = given ?? (await askTag(lastTags(context.hangar)[dockerfile.fsPath] ?? defaultTag(dockerfile)));
    if (!tag) return undefined;
    return buildDockerfile(context, dockerfile, tag);
  },
};

async function chooseDockerfile(arg: unknown): Promise<vscode.Uri> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string") return vscode.Uri.file(arg);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === "dockerfile" && active.uri.scheme === "file") return active.uri;
  const picked = await pickDockerfile("Build which Dockerfile?");
  if (!picked) throw new HangarError("This workspace has no Dockerfile to build.", "Create one with 'Hangar: Create Dockerfile'.");
  return picked;
}

function defaultTag(dockerfile: vscode.Uri): string {
  const folder =
    path
      .basename(path.dirname(dockerfile.fsPath))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[._-]+/, "") || "image";
  return `${folder}:latest`;
}

function askTag(value: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: "Build Image",
    prompt: "Tag the image as repository[:tag]",
    value,
    validateInput: checkImageName,
  });
}
