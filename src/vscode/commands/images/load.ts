import { createReadStream } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { JsonMessageSplitter } from "../../../core/docker/build/build-progress";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";

/** `docker load` from an archive (docker save or OCI layout). */
export const loadImage: HangarCommand = {
  id: "hangar.images.load",
  async run({ hangar, withProgress }, file?: unknown) {
    const source =
      typeof file === "string"
        ? vscode.Uri.file(file)
        : (await vscode.window.showOpenDialog({ title: "Load images from an archive", canSelectMany: false, filters: { "Image archive": ["tar"] } }))?.[0];
    if (!source) return undefined;
    const loaded = await withProgress({ title: `Loading ${path.basename(source.fsPath)}`, cancellable: true }, () =>
      hangar.docker.use(`Loading ${source.fsPath}`, async (d) => {
        const stream = (await d.loadImage(createReadStream(source.fsPath), { quiet: true })) as unknown as Readable;
        const splitter = new JsonMessageSplitter();
        const messages: Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }> = [];
        for await (const chunk of stream) messages.push(...(splitter.push(String(chunk)) as typeof messages));
        messages.push(...(splitter.end() as typeof messages));
        const failed = messages.find((m) => m.error || m.errorDetail);
        if (failed) throw new HangarError(failed.errorDetail?.message ?? failed.error ?? "load failed");
        return messages.map((m) => m.stream?.trim()).filter((s): s is string => !!s);
      }),
    );
    void vscode.window.showInformationMessage(loaded.join("; ") || `Loaded ${path.basename(source.fsPath)}.`);
    return loaded;
  },
};
