import { createReadStream } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { JsonMessageSplitter } from "../../../core/docker/build/build-progress";
import { CancelledError, HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";

/** `docker load` from an archive (docker save or OCI layout). */
export const loadImage: HangarCommand = {
  id: "hangar.images.load",
  /** `options.signal` cancels as the notification's Cancel does (for callers, and the tests). */
  async run({ hangar, withProgress }, file?: unknown, options?: unknown) {
    const source =
      typeof file === "string"
        ? vscode.Uri.file(file)
        : (await vscode.window.showOpenDialog({ title: "Load images from an archive", canSelectMany: false, filters: { "Image archive": ["tar"] } }))?.[0];
    if (!source) return undefined;
    const name = path.basename(source.fsPath);
    const cancelled = (): Error => new CancelledError(`Loading ${name} was cancelled before the engine had the whole archive: no image was added.`);
    const loaded = await withProgress({ title: `Loading ${name}`, cancellable: true }, ({ signal: cancel }) =>
      hangar.docker.use(`Loading ${source.fsPath}`, async (d) => {
        // Cancel ends the upload: the engine adds nothing from an archive it did not receive whole (as dockerd).
        const given = (options as { signal?: unknown } | undefined)?.signal;
        const signal = given instanceof AbortSignal ? AbortSignal.any([cancel, given]) : cancel;
        if (signal.aborted) throw cancelled();
        const archive = createReadStream(source.fsPath);
        let stream: Readable | undefined;
        const onAbort = (): void => {
          archive.destroy(cancelled());
          stream?.destroy(cancelled());
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const messages: Array<{ stream?: string; error?: string; errorDetail?: { message?: string } }> = [];
        try {
          stream = (await d.loadImage(archive, { quiet: true })) as unknown as Readable;
          const splitter = new JsonMessageSplitter();
          for await (const chunk of stream) messages.push(...(splitter.push(String(chunk)) as typeof messages));
          messages.push(...(splitter.end() as typeof messages));
        } catch (err) {
          if (signal.aborted) throw cancelled();
          throw err;
        } finally {
          signal.removeEventListener("abort", onAbort);
        }
        const failed = messages.find((m) => m.error || m.errorDetail);
        if (failed) throw new HangarError(failed.errorDetail?.message ?? failed.error ?? "load failed");
        return messages.map((m) => m.stream?.trim()).filter((s): s is string => !!s);
      }),
    );
    void vscode.window.showInformationMessage(loaded.join("; ") || `Loaded ${name}.`);
    return loaded;
  },
};
