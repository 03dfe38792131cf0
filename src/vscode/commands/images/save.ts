import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as vscode from "vscode";
import { fsyncDir } from "../../../core/util/atomic-file";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { imageTarget } from "./image-target";

/** `docker save`: written to a temporary file beside the target, synced, then renamed, so a failure leaves no half archive. */
export const saveImage: HangarCommand = {
  id: "hangar.image.save",
  async run({ hangar, withProgress }, arg?: unknown, file?: unknown) {
    const image = await imageTarget(hangar, arg, "Save which image?");
    const target =
      typeof file === "string"
        ? vscode.Uri.file(file)
        : await vscode.window.showSaveDialog({
            title: `Save ${image.ref}`,
            defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd(), `${image.ref.replace(/[/:@]+/g, "_")}.tar`)),
            filters: { "Image archive": ["tar"] },
          });
    if (!target) return undefined;
    const temp = `${target.fsPath}.${process.pid}.partial`;
    await withProgress({ title: `Saving ${image.ref}`, cancellable: true }, ({ signal }) =>
      hangar.docker.use(`Saving ${image.ref}`, async (d) => {
        try {
          const stream = (await d.getImage(image.ref).get()) as unknown as Readable;
          signal.addEventListener("abort", () => stream.destroy(new HangarError("Cancelled.")));
          await pipeline(stream, createWriteStream(temp));
          const handle = await fs.open(temp, "r+");
          await handle.sync().finally(() => handle.close());
          await fs.rename(temp, target.fsPath);
          await fsyncDir(path.dirname(target.fsPath));
        } finally {
          await fs.rm(temp, { force: true });
        }
      }),
    );
    return target.fsPath;
  },
};
