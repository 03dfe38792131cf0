import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as vscode from "vscode";
import { JsonMessageSplitter } from "../../../core/docker/build/build-progress";
import { parseTagTarget, splitFamiliarTag } from "../../../core/engine/images/image-reference";
import { fsyncDir } from "../../../core/util/atomic-file";
import { errorMessage, HangarError } from "../../../core/util/errors";
import { TtyPty } from "../../terminals/docker-terminals";
import { checkImageName, imageTarget, withDockerProgress } from "../docker/docker-targets";
import type { HangarCommand } from "../hangar-command";

export const refreshImages: HangarCommand = {
  id: "hangar.images.refresh",
  run: ({ trees }) => trees.images.refresh(),
};

/** `docker run -d -P IMAGE`: detached, exposed ports published on free host ports; the Containers view shows it. */
export const runImage: HangarCommand = {
  id: "hangar.image.run",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Run which image?");
    return hangar.docker.use(`Running ${image.ref}`, async (d) => {
      const container = await d.createContainer({ Image: image.ref, HostConfig: { PublishAllPorts: true } });
      await container.start();
      const info = await container.inspect();
      hangar.log.info(`Started ${info.Name.slice(1)} (${info.Id.slice(0, 12)}) from ${image.ref}.`);
      return info.Id;
    });
  },
};

/** `docker run --rm -it IMAGE` in a terminal: its TTY follows the terminal; the container goes when it exits. */
export const runImageInteractive: HangarCommand = {
  id: "hangar.image.runInteractive",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Run which image in a terminal?");
    let containerId = "";
    hangar.dockerTerminals.open(
      new TtyPty(`${image.ref} (run)`, (dims) =>
        hangar.docker.use(`Running ${image.ref}`, async (d) => {
          const container = await d.createContainer({
            Image: image.ref,
            Tty: true,
            OpenStdin: true,
            StdinOnce: true,
            AttachStdin: true,
            AttachStdout: true,
            AttachStderr: true,
            Env: ["TERM=xterm-256color"],
            HostConfig: { AutoRemove: true, PublishAllPorts: true },
          });
          containerId = container.id;
          const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as import("node:stream").Duplex;
          // Waiting from before the start, as the docker CLI does for --rm: the status is not lost to the removal.
          const exit = (container.wait({ condition: "removed" }) as Promise<{ StatusCode: number }>).then((r) => r.StatusCode, () => 0);
          await container.start();
          if (dims) await container.resize({ h: dims.rows, w: dims.columns }).catch(() => undefined);
          return {
            stream,
            resize: (s) => container.resize({ h: s.rows, w: s.columns }),
            exitCode: () => exit,
          };
        }),
      ),
      "play",
    );
    return containerId;
  },
};

export const inspectImage: HangarCommand = {
  id: "hangar.image.inspect",
  async run({ hangar }, arg?: unknown) {
    const image = await imageTarget(hangar, arg, "Inspect which image?");
    const info = await hangar.docker.use(`Inspecting ${image.ref}`, (d) => d.getImage(image.ref).inspect());
    await hangar.inspectDocuments.show("image", image.ref, info);
  },
};

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

/** Removes a tag (or an untagged image) after a confirmation; an image in use by containers can be removed by force. */
export const removeImage: HangarCommand = {
  id: "hangar.image.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const image = await imageTarget(hangar, arg, "Remove which image?");
    const confirm = (options as { confirm?: boolean } | undefined)?.confirm !== false;
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

export const pruneImages: HangarCommand = {
  id: "hangar.images.prune",
  async run({ hangar }, options?: unknown) {
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage("Remove all dangling images?", { modal: true, detail: "Untagged images no container uses are deleted." }, "Prune");
      if (choice !== "Prune") return undefined;
    }
    const result = (await hangar.docker.use("Pruning dangling images", (d) => d.pruneImages({ filters: { dangling: ["true"] } }))) as { ImagesDeleted?: unknown[] | null; SpaceReclaimed?: number };
    const count = result.ImagesDeleted?.length ?? 0;
    void vscode.window.showInformationMessage(`Pruned ${count} image item${count === 1 ? "" : "s"}, reclaimed ${((result.SpaceReclaimed ?? 0) / 1e6).toFixed(1)} MB.`);
    return result;
  },
};

/** `docker save`: written to a temporary file beside the target, synced, then renamed, so a failure leaves no half archive. */
export const saveImage: HangarCommand = {
  id: "hangar.image.save",
  async run({ hangar }, arg?: unknown, file?: unknown) {
    const image = await imageTarget(hangar, arg, "Save which image?");
    const target =
      typeof file === "string"
        ? vscode.Uri.file(file)
        : await vscode.window.showSaveDialog({ title: `Save ${image.ref}`, defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd(), `${image.ref.replace(/[/:@]+/g, "_")}.tar`)), filters: { "Image archive": ["tar"] } });
    if (!target) return undefined;
    const temp = `${target.fsPath}.${process.pid}.partial`;
    await withDockerProgress(`Saving ${image.ref}`, (signal) =>
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

/** `docker load` from an archive (docker save or OCI layout). */
export const loadImage: HangarCommand = {
  id: "hangar.images.load",
  async run({ hangar }, file?: unknown) {
    const source = typeof file === "string" ? vscode.Uri.file(file) : (await vscode.window.showOpenDialog({ title: "Load images from an archive", canSelectMany: false, filters: { "Image archive": ["tar"] } }))?.[0];
    if (!source) return undefined;
    const loaded = await withDockerProgress(`Loading ${path.basename(source.fsPath)}`, () =>
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
