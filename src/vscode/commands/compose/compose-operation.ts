import * as vscode from "vscode";
import { findComposeClient, type ComposeClient } from "../../../core/compose/compose-client";
import { composeEnvironment } from "../../../core/compose/compose-environment";
import { composeArgs, ComposeFailedError, runCompose, type ComposeTarget, type ComposeVerb } from "../../../core/compose/compose-run";
import type { HangarContext } from "../../hangar-context";
import { OutputPty } from "../../terminals/docker-terminals";
import type { CommandContext } from "../hangar-command";
import { composeTarget } from "./compose-target";

/** The client found for each `hangar.compose.command` value; a failed search is not kept (the user may install one). */
const clients = new Map<string, Promise<ComposeClient>>();

function composeClient(): Promise<ComposeClient> {
  const configured = vscode.workspace.getConfiguration("hangar").get<string>("compose.command", "") ?? "";
  let found = clients.get(configured);
  if (!found) {
    found = findComposeClient({ configured, env: process.env });
    clients.set(configured, found);
    found.catch(() => clients.delete(configured));
  }
  return found;
}

/** The client and the environment that points it at the current Docker endpoint (the embedded engine is started first, as the views do). */
async function prepare(hangar: HangarContext): Promise<{ client: ComposeClient; env: NodeJS.ProcessEnv }> {
  const client = await composeClient();
  const endpoint = await hangar.docker.endpoint();
  await hangar.docker.use(`Reaching ${endpoint.name} for Compose`, (d) => d.ping());
  return { client, env: composeEnvironment(endpoint, process.env) };
}

/**
 * A project acted on by name alone (its files are not in this workspace)
 * fails on clients that need the files (docker-compose 1.x): say how to
 * give them.
 */
async function withoutFilesHint<T>(target: ComposeTarget, running: Promise<T>): Promise<T> {
  try {
    return await running;
  } catch (err) {
    if (!(err instanceof ComposeFailedError) || target.files.length) throw err;
    throw new ComposeFailedError(
      `${err.message}\nCompose ran by the project name alone: its Compose files are not in this workspace.`,
      "Open the project's folder in VS Code and run the command on its Compose file, or use Compose v2 (docker compose), which needs no files for this.",
    );
  }
}

/**
 * Runs one Compose verb on the target the arguments name, under a
 * cancellable progress notification showing Compose's latest line; the whole
 * output goes to the Hangar log. Resolves with the output.
 */
export async function runComposeVerb(context: CommandContext, verb: Exclude<ComposeVerb, "logs">, what: string, arg: unknown, selected: unknown): Promise<string> {
  const { hangar } = context;
  const { target, label } = await composeTarget(arg, selected, `${what}: which Compose file?`, () => hangar.hangarHome);
  return context.withProgress({ title: `${what} ${label}`, cancellable: true }, async (progress) => {
    progress.report("finding the Compose client…");
    const { client, env } = await prepare(hangar);
    const args = composeArgs(target, verb);
    hangar.log.info(`${client.label} ${args.join(" ")}   (in ${target.cwd}; DOCKER_HOST=${env.DOCKER_HOST})`);
    let partial = "";
    const output = await withoutFilesHint(
      target,
      runCompose({
        client,
        args,
        cwd: target.cwd,
        env,
        signal: progress.signal,
        onOutput: (text) => {
          const lines = (partial + text).split(/\r?\n|\r/);
          partial = lines.pop() ?? "";
          for (const line of lines.map((l) => l.trim()).filter(Boolean)) {
            hangar.log.info(`compose: ${line}`);
            progress.report(line);
          }
        },
      }),
    );
    if (partial.trim()) hangar.log.info(`compose: ${partial.trim()}`);
    return output;
  });
}

/** `compose logs -f` in a terminal: each service's recent lines, then new ones; Ctrl-C or closing the terminal stops it. */
export async function openComposeLogs(context: CommandContext, arg: unknown, selected: unknown): Promise<ComposeTarget> {
  const { hangar } = context;
  const { target, label } = await composeTarget(arg, selected, "Show the logs of which Compose file?", () => hangar.hangarHome);
  const { client, env } = await context.withProgress({ title: `Compose Logs ${label}` }, () => prepare(hangar));
  const args = composeArgs(target, "logs");
  hangar.log.info(`${client.label} ${args.join(" ")}   (in ${target.cwd}; DOCKER_HOST=${env.DOCKER_HOST})`);
  hangar.dockerTerminals.open(
    new OutputPty(`${target.project ?? label} (compose logs)`, async (out, signal) => {
      await withoutFilesHint(target, runCompose({ client, args, cwd: target.cwd, env, signal, onOutput: out }));
    }),
    "output",
  );
  return target;
}
