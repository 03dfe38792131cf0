import { openHangarHome } from "../core/util/hangar-home";

/** One verb of the `hangar` command line. Verbs are thin: they parse arguments and call src/core. */
export interface CliCommand {
  /** Words that select the verb, e.g. ["box", "list"]. */
  words: string[];
  usage: string;
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A usage error: printed with the verb's usage line, exit code 2. */
export class UsageError extends Error {}

/** HANGAR_HOME for a verb that uses it: created 0700 when missing, refused when another user owns it (ensureHangarHome). */
export function hangarHome(io: CliIo): string {
  return openHangarHome(undefined, io.env);
}
