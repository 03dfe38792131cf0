import * as path from "node:path";
import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { packBuildContext } from "../../../core/docker/build/build-context";
import { JsonMessageSplitter, readBuildMessage } from "../../../core/docker/build/build-progress";
import { parseTagTarget } from "../../../core/engine/images/image-reference";
import { CancelledError, errorMessage, HangarError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";
import { OutputPty } from "../../terminals/docker-terminals";
import type { CommandContext } from "../hangar-command";

/** The Restricted Mode precondition of every build: it runs the workspace's Dockerfile steps. */
export const BUILDING = "Building an image from this workspace";

const LAST_TAGS_KEY = "hangar.image.build.lastTags";

/** The tag each Dockerfile was last built as (the Build Image prompt's default). */
export const lastTags = (hangar: HangarContext): Record<string, string> => hangar.extension.workspaceState.get<Record<string, string>>(LAST_TAGS_KEY, {});

/** Saves the Dockerfile if it has unsaved edits, remembers the tag for it, and builds. */
export async function buildDockerfile(context: CommandContext, dockerfile: vscode.Uri, tag: string): Promise<string> {
  const { hangar } = context;
  const familiar = parseTagTarget(tag);
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === dockerfile.fsPath);
  if (doc?.isDirty) await doc.save();
  await hangar.extension.workspaceState.update(LAST_TAGS_KEY, { ...lastTags(hangar), [dockerfile.fsPath]: tag });
  return runBuild(context, dockerfile.fsPath, familiar);
}

/** One of the workspace's Dockerfiles (but `exclude`): picked, or the only one unless `alwaysAsk`; undefined when there is none. */
export async function pickDockerfile(placeHolder: string, exclude?: string, alwaysAsk = false): Promise<vscode.Uri | undefined> {
  const found = (await vscode.workspace.findFiles("**/{Dockerfile,Containerfile,*.dockerfile,Dockerfile.*}", "**/node_modules/**", 100)).filter((u) => u.fsPath !== exclude);
  if (found.length === 0 || (found.length === 1 && !alwaysAsk)) return found[0];
  const pick = await vscode.window.showQuickPick(
    found.map((u) => ({ label: vscode.workspace.asRelativePath(u), u })),
    { placeHolder },
  );
  if (!pick) throw new CancelledError("No Dockerfile chosen.");
  return pick.u;
}

/** The build itself: returns the image ID; a failed step fails the command with the builder's message. */
async function runBuild({ hangar, withProgress }: CommandContext, dockerfile: string, tag: string): Promise<string> {
  // The terminal stays open with the log until closed (or Ctrl-C).
  const pty = new OutputPty(`Build ${tag}`, (_out, signal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve()))));
  const write = (text: string): void => pty.write(text);
  hangar.dockerTerminals.open(pty, "tools");
  const started = Date.now();
  return withProgress({ title: `Building ${tag}`, cancellable: true }, async ({ signal, report }) => {
    try {
      const context = await packBuildContext(path.dirname(dockerfile), path.basename(dockerfile));
      write(`\x1b[1mBuilding ${tag} from ${dockerfile}\x1b[0m\n`);
      const imageId = await hangar.docker.use(`Building ${tag}`, async (d) => {
        const stream = (await d.buildImage(context.tar, { t: tag, dockerfile: context.dockerfile, ...buildSettings(), abortSignal: signal } as never)) as unknown as Readable;
        signal.addEventListener("abort", () => stream.destroy());
        const splitter = new JsonMessageSplitter();
        let id: string | undefined;
        let error: string | undefined;
        const handle = (m: unknown): void => {
          const p = readBuildMessage(m);
          if (p.text) write(p.text);
          if (p.step) report(`Step ${p.step.index}/${p.step.total}: ${p.step.instruction}`, p.step.index / p.step.total);
          if (p.imageId) id = p.imageId;
          if (p.error) error = p.error;
        };
        for await (const chunk of stream) for (const m of splitter.push(String(chunk))) handle(m);
        for (const m of splitter.end()) handle(m);
        if (signal.aborted) throw new CancelledError(`The build of ${tag} was cancelled.`);
        if (error) throw new HangarError(`The build of ${tag} failed: ${error}`);
        if (!id) throw new HangarError(`The build of ${tag} ended without an image.`);
        return id;
      });
      write(`\x1b[32mBuilt ${tag} (${imageId.replace(/^sha256:/, "").slice(0, 12)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\x1b[0m\n`);
      hangar.log.info(`Built ${tag} from ${dockerfile}.`);
      return imageId;
    } catch (err) {
      if (signal.aborted) {
        write(`\x1b[33mCancelled.\x1b[0m\n`);
        throw new CancelledError(`The build of ${tag} was cancelled.`);
      }
      write(`\x1b[31m${errorMessage(err)}\x1b[0m\n`);
      throw err;
    }
  });
}

/** hangar.images.buildArgs and hangar.images.noCache as the build API's `buildargs` and `nocache` (a Dockerfile's ARG defaults apply to the rest). */
function buildSettings(): { buildargs?: Record<string, string>; nocache?: boolean } {
  const config = vscode.workspace.getConfiguration("hangar");
  const args = Object.fromEntries(Object.entries(config.get<Record<string, unknown>>("images.buildArgs", {})).map(([k, v]) => [k, String(v)]));
  return { ...(Object.keys(args).length ? { buildargs: args } : {}), ...(config.get<boolean>("images.noCache", false) ? { nocache: true } : {}) };
}
