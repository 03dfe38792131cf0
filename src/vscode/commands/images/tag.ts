import * as vscode from "vscode";
import { parseTagTarget, splitFamiliarTag } from "../../../core/engine/images/image-reference";
import type { HangarCommand } from "../hangar-command";
import { checkImageName } from "./image-name";
import { imageTarget } from "./image-target";

export const tagImage: HangarCommand = {
  id: "hangar.image.tag",
  async run({ hangar }, arg?: unknown, newTag?: unknown) {
    const image = await imageTarget(hangar, arg, "Tag which image?");
    const target =
      typeof newTag === "string"
        ? newTag
        : await vscode.window.showInputBox({
            title: `Tag ${image.ref}`,
            prompt: "New name, as repository[:tag]",
            value: image.ref.startsWith("sha256:") ? "" : image.ref,
            validateInput: checkImageName,
          });
    if (!target) return undefined;
    const familiar = parseTagTarget(target.trim());
    const { repo, tag } = splitFamiliarTag(familiar);
    await hangar.docker.use(`Tagging ${image.ref} as ${familiar}`, (d) => d.getImage(image.ref).tag({ repo, tag }));
    return familiar;
  },
};
