import type { Readable } from "node:stream";
import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";
import { checkImageName } from "./image-name";
import { followRegistryStream, storedAuth } from "./registry-stream";

/** `docker pull` of a name the user types (or one given), with the registry's progress in the notification. */
export const pullImage: HangarCommand = {
  id: "hangar.image.pull",
  async run({ hangar, trees, withProgress }, name?: unknown) {
    const ref =
      typeof name === "string"
        ? name
        : await vscode.window.showInputBox({
            title: "Pull an image",
            prompt: "Image name, as [registry/]repository[:tag]",
            placeHolder: "localhost:5000/team/app:1.0",
            validateInput: checkImageName,
          });
    if (!ref) return undefined;
    const wanted = ref.trim();
    const authconfig = await storedAuth(wanted);
    const lines = await withProgress({ title: `Pulling ${wanted}`, cancellable: true }, (progress) =>
      hangar.docker.use(`Pulling ${wanted}`, async (d) => followRegistryStream((await d.pull(wanted, authconfig ? { authconfig } : {})) as unknown as Readable, progress)),
    );
    trees.images.refresh();
    const status = lines.filter((l) => l.startsWith("Status: ")).pop() ?? `Pulled ${wanted}`;
    void vscode.window.showInformationMessage(status.replace(/^Status: /, ""));
    return lines;
  },
};
