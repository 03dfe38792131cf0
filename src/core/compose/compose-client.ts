// Which Compose client runs the user's Compose commands: the docker CLI's
// plugin (`docker compose`, v2), else the standalone `docker-compose`, or
// the command the user configured. Hangar never bundles one: the user's own
// client, with its own version and plugins, is what a terminal would run.
import { execFile } from "node:child_process";
import { HangarError } from "../util/errors";

export interface ComposeClient {
  /** The program and the arguments before Compose's own (["compose"] for the plugin). */
  command: string;
  args: string[];
  /** As a user would type it: "docker compose", "docker-compose". */
  label: string;
}

/** No Compose client could be run; the message names what to install or fix. */
export class ComposeClientMissingError extends HangarError {}

/** Runs `<client> version`; true when it exits 0. */
export type ClientProbe = (client: ComposeClient, env: NodeJS.ProcessEnv) => Promise<boolean>;

export const probeClient: ClientProbe = (client, env) =>
  new Promise((resolve) => {
    execFile(client.command, [...client.args, "version"], { env, timeout: 15_000, windowsHide: true }, (err) => resolve(!err));
  });

/**
 * Words of a configured command, split on blanks; double or single quotes
 * keep a path with spaces whole. No shell runs it: nothing else is expanded.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

export const PLUGIN_CLIENT: ComposeClient = { command: "docker", args: ["compose"], label: "docker compose" };
export const STANDALONE_CLIENT: ComposeClient = { command: "docker-compose", args: [], label: "docker-compose" };

/**
 * The configured client when one is set (it must answer `version`), else
 * `docker compose`, else `docker-compose`.
 */
export async function findComposeClient(o: { configured?: string; env: NodeJS.ProcessEnv; probe?: ClientProbe }): Promise<ComposeClient> {
  const probe = o.probe ?? probeClient;
  const configured = o.configured?.trim();
  if (configured) {
    const [command, ...args] = splitCommand(configured);
    const client = { command, args, label: configured };
    if (await probe(client, o.env)) return client;
    throw new ComposeClientMissingError(
      `The Compose command "${configured}" (setting hangar.compose.command) did not run: "${configured} version" failed.`,
      "Fix the setting, or clear it to use `docker compose` or `docker-compose` from PATH.",
    );
  }
  for (const client of [PLUGIN_CLIENT, STANDALONE_CLIENT]) if (await probe(client, o.env)) return client;
  throw new ComposeClientMissingError(
    "No Compose client found: neither `docker compose` (the docker CLI's Compose plugin) nor `docker-compose` runs on this computer.",
    "Install one — the docker-compose-plugin package (Compose v2), or your distribution's docker-compose package — or set hangar.compose.command to the one you have.",
  );
}
