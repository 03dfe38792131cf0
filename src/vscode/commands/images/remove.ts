import * as vscode from "vscode";
import { errorMessage } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";

/** Removes a tag (or an untagged image) after a confirmation; an image in use by containers can be removed by force. */
export const removeImage: HangarCommand = {
  id: "hangar.image.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const image = await imageTarget(hangar, arg, "Remove which image?");
    const confirm = (options as { confirm?: boolean } | undefined)?.confirm !== false && vscode.workspace.getConfiguration("hangar").get<boolean>("images.confirmRemove", true);
    let force = (options as { force?: boolean } | undefined)?.force === true;
    if (confirm) {
      const choice = await vscode.window.showWarningMessage(`Remove image ${image.ref}?`, { modal: true, detail: "Its layers are deleted when no other tag or container uses them." }, "Remove");
      if (choice !== "Remove") return false;
    }
    try {
      await hangar.docker.use(`Removing ${image.ref}`, (d) => d.getImage(image.ref).remove({ force }));
    } catch (err) {
      // 409: a container uses it. Say which, and offer force.
      if (force || !/conflict|is being used|must be forced|409/i.test(errorMessage(err)) || !confirm) throw err;
      const choice = await vscode.window.showWarningMessage(`${image.ref} is in use by a container.`, { modal: true, detail: errorMessage(err) }, "Force Remove");
      if (choice !== "Force Remove") return false;
      force = true;
      await hangar.docker.use(`Removing ${image.ref}`, (d) => d.getImage(image.ref).remove({ force }));
    }
    return true;
  },
};
