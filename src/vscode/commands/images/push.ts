import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { splitFamiliarTag } from "../../../core/engine/images/image-reference";
import { CancelledError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";
import { followRegistryStream, storedAuth } from "./registry-stream";

/** `docker push` of a tagged image to the registry its name holds (tag it with one first: Tag…). */
export const pushImage: HangarCommand = {
  id: "hangar.image.push",
  async run({ hangar, withProgress }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Push which image?");
    if (image.ref.startsWith("sha256:")) throw new CancelledError("An untagged image cannot be pushed: tag it with a registry name first (Tag…).");
    const { repo, tag } = splitFamiliarTag(image.ref);
    const authconfig = await storedAuth(image.ref);
    const lines = await withProgress({ title: `Pushing ${image.ref}`, cancellable: true }, (progress) =>
      hangar.docker.use(`Pushing ${image.ref}`, async (d) => followRegistryStream((await d.getImage(repo).push({ tag, ...(authconfig ? { authconfig } : {}) })) as unknown as Readable, progress)),
    );
    const digest = lines.map((l) => /digest: (sha256:[0-9a-f]{64})/.exec(l)?.[1]).find(Boolean);
    void vscode.window.showInformationMessage(`Pushed ${image.ref}${digest ? ` (${digest.slice(0, 19)}…)` : ""}.`);
    return lines;
  },
};
