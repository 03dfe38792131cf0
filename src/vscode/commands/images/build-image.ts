import * as path from "node:path";
import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { packBuildContext } from "../../../core/docker/build/build-context";
import { JsonMessageSplitter, readBuildMessage } from "../../../core/docker/build/build-progress";
import { parseTagTarget } from "../../../core/engine/images/image-reference";
import { CancelledError, errorMessage, HangarError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";
import { OutputPty } from "../../terminals/docker-terminals";
import { checkImageName } from "../docker/docker-targets";
import { requireTrust } from "../../workspace/workspace-trust";
import type { HangarCommand } from "../hangar-command";

const LAST_TAGS_KEY = "hangar.image.build.lastTags";
const BUILDING = "Building an image from this workspace";

/**
 * Builds an image from a Dockerfile (the one given — explorer menu,
 * CodeLens — else the active editor's, else one picked from the
 * workspace), its folder as the context. The tag prompt remembers the last
 * tag per Dockerfile; the log streams into a terminal and the notification
 * shows the step, with Cancel aborting the build.
 */
export const buildImage: HangarCommand = {
  id: "hangar.image.build",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    // Before any prompt: a build runs the workspace's Dockerfile steps.
    requireTrust(BUILDING);
    const dockerfile = await chooseDockerfile(arg);
    const given = (options as { tag?: string } | undefined)?.tag;
    const tag = given ?? (await askTag(lastTags(hangar)[dockerfile.fsPath] ?? defaultTag(dockerfile)));
    if (!tag) return undefined;
    return buildDockerfile(hangar, dockerfile, tag);
  },
};

/** The missing-image quick fix: builds the image a FROM names from another Dockerfile of the workspace. */
export const buildImageAs: HangarCommand = {
  id: "hangar.image.buildAs",
  async run({ hangar }, name?: unknown, from?: unknown) {
    requireTrust(BUILDING);
    if (typeof name !== "string") throw new HangarError("Build As needs the image name to build.");
    const dockerfile = await pickDockerfile(`Build ${name} from which Dockerfile?`, from instanceof vscode.Uri ? from.fsPath : undefined, true);
    if (!dockerfile) throw new HangarError(`No other Dockerfile in this workspace could build ${name}.`, "Load it from an image archive instead, or write a Dockerfile for it.");
    return buildDockerfile(hangar, dockerfile, name);
  },
};

const lastTags = (hangar: HangarContext): Record<string, string> => hangar.extension.workspaceState.get<Record<string, string>>(LAST_TAGS_KEY, {});

/** Saves the Dockerfile if it has unsaved edits, remembers the tag for it, and builds. */
async function buildDockerfile(hangar: HangarContext, dockerfile: vscode.Uri, tag: string): Promise<string> {
  const familiar = parseTagTarget(tag);
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === dockerfile.fsPath);
  if (doc?.isDirty) await doc.save();
  await hangar.extension.workspaceState.update(LAST_TAGS_KEY, { ...lastTags(hangar), [dockerfile.fsPath]: tag });
  return runBuild(hangar, dockerfile.fsPath, familiar);
}

async function chooseDockerfile(arg: unknown): Promise<vscode.Uri> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "string") return vscode.Uri.file(arg);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === "dockerfile" && active.uri.scheme === "file") return active.uri;
  const picked = await pickDockerfile("Build which Dockerfile?");
  if (!picked) throw new HangarError("This workspace has no Dockerfile to build.", "Create one with 'Hangar: Create Dockerfile'.");
  return picked;
}

/** One of the workspace's Dockerfiles (but `exclude`): picked, or the only one unless `alwaysAsk`; undefined when there is none. */
async function pickDockerfile(placeHolder: string, exclude?: string, alwaysAsk = false): Promise<vscode.Uri | undefined> {
  const found = (await vscode.workspace.findFiles("**/{Dockerfile,Containerfile,*.dockerfile,Dockerfile.*}", "**/node_modules/**", 100)).filter((u) => u.fsPath !== exclude);
  if (found.length === 0 || (found.length === 1 && !alwaysAsk)) return found[0];
  const pick = await vscode.window.showQuickPick(
    found.map((u) => ({ label: vscode.workspace.asRelativePath(u), u })),
    { placeHolder },
  );
  if (!pick) throw new CancelledError("No Dockerfile chosen.");
  return pick.u;
}

function defaultTag(dockerfile: vscode.Uri): string {
  const folder = path.basename(path.dirname(dockerfile.fsPath)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "") || "image";
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

/** The build itself: returns the image ID; a failed step fails the command with the builder's message. */
async function runBuild(hangar: HangarContext, dockerfile: string, tag: string): Promise<string> {
  // The terminal stays open with the log until closed (or Ctrl-C).
  const pty = new OutputPty(`Build ${tag}`, (_out, signal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve()))));
  const write = (text: string): void => pty.write(text);
  hangar.dockerTerminals.open(pty, "tools");
  const started = Date.now();
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Building ${tag}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      const context = await packBuildContext(path.dirname(dockerfile), path.basename(dockerfile));
      write(`\x1b[1mBuilding ${tag} from ${dockerfile}\x1b[0m\n`);
      const imageId = await hangar.docker.use(`Building ${tag}`, async (d) => {
        const stream = (await d.buildImage(context.tar, { t: tag, dockerfile: context.dockerfile, abortSignal: abort.signal } as never)) as unknown as Readable;
        abort.signal.addEventListener("abort", () => stream.destroy());
        const splitter = new JsonMessageSplitter();
        let id: string | undefined;
        let error: string | undefined;
        let last = 0;
        const handle = (m: unknown): void => {
          const p = readBuildMessage(m);
          if (p.text) write(p.text);
          if (p.step) {
            const pct = (p.step.index / p.step.total) * 100;
            progress.report({ message: `Step ${p.step.index}/${p.step.total}: ${p.step.instruction}`, increment: Math.max(0, pct - last) });
            last = Math.max(last, pct);
          }
          if (p.imageId) id = p.imageId;
          if (p.error) error = p.error;
        };
        for await (const chunk of stream) for (const m of splitter.push(String(chunk))) handle(m);
        for (const m of splitter.end()) handle(m);
        if (abort.signal.aborted) throw new CancelledError(`The build of ${tag} was cancelled.`);
        if (error) throw new HangarError(`The build of ${tag} failed: ${error}`);
        if (!id) throw new HangarError(`The build of ${tag} ended without an image.`);
        return id;
      });
      write(`\x1b[32mBuilt ${tag} (${imageId.replace(/^sha256:/, "").slice(0, 12)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\x1b[0m\n`);
      hangar.log.info(`Built ${tag} from ${dockerfile}.`);
      return imageId;
    } catch (err) {
      if (abort.signal.aborted) {
        write(`\x1b[33mCancelled.\x1b[0m\n`);
        throw new CancelledError(`The build of ${tag} was cancelled.`);
      }
      write(`\x1b[31m${errorMessage(err)}\x1b[0m\n`);
      throw err;
    }
  });
}
