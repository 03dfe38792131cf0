// Runs one Compose command (up, down, restart, logs…) as a child process and
// reports its output as it comes. No shell: the arguments go to the client
// as they are, so a file name cannot become a command.
import { spawn } from "node:child_process";
import { CancelledError, HangarError } from "../util/errors";
import type { ComposeClient } from "./compose-client";

/** What a command acts on: compose files (first one's folder is the project folder) and/or a project name. */
export interface ComposeTarget {
  /** Where the client runs (Compose looks for .env and relative paths there). */
  cwd: string;
  files: string[];
  /** -p: given for projects found by their labels; from files Compose derives it as the CLI does. */
  project?: string;
}

export type ComposeVerb = "up" | "down" | "downVolumes" | "restart" | "logs";

/** What each verb means to the client: `up` is detached, `logs` follows. */
const VERB_ARGS: Record<ComposeVerb, string[]> = {
  up: ["up", "-d"],
  down: ["down"],
  downVolumes: ["down", "-v"],
  restart: ["restart"],
  logs: ["logs", "-f", "--tail=500"],
};

/** The arguments after the client's own: global options (-f…, -p) first, as both Compose versions want. */
export function composeArgs(target: ComposeTarget, verb: ComposeVerb): string[] {
  return [...target.files.flatMap((f) => ["-f", f]), ...(target.project ? ["-p", target.project] : []), ...VERB_ARGS[verb]];
}

/** Compose exited non-zero; the message carries its last lines, which say why. */
export class ComposeFailedError extends HangarError {}

/** How long an interrupted client gets to stop by itself before it is killed. */
const INTERRUPT_GRACE_MS = 5000;
/** Output kept for the error message. */
const TAIL_LINES = 12;

/**
 * Runs `client args` in `cwd` with `env` and resolves with its output when it
 * exits 0. Abort interrupts it as Ctrl-C would (SIGINT: Compose tidies up),
 * then kills it; the promise rejects with CancelledError. A non-zero exit
 * rejects with ComposeFailedError.
 */
export function runCompose(o: {
  client: ComposeClient;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Output (stdout and stderr, as text) as it comes. */
  onOutput?: (text: string) => void;
}): Promise<string> {
  const commandLine = [o.client.label, ...o.args].join(" ");
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CancelledError(`${commandLine}: cancelled before it started.`));
    const child = spawn(o.client.command, [...o.client.args, ...o.args], { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    let output = "";
    const take = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      output = (output + text).slice(-256 * 1024);
      o.onOutput?.(text);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill("SIGINT");
      killTimer = setTimeout(() => child.kill("SIGKILL"), INTERRUPT_GRACE_MS);
      killTimer.unref();
    };
    o.signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (err: NodeJS.ErrnoException) => {
      o.signal?.removeEventListener("abort", onAbort);
      reject(new ComposeFailedError(`${commandLine} could not start: ${err.code === "ENOENT" ? `${o.client.command} is not installed or not on PATH` : err.message}.`));
    });
    child.once("close", (code, signal) => {
      o.signal?.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (o.signal?.aborted) return reject(new CancelledError(`${commandLine}: cancelled.`));
      if (code === 0) return resolve(output);
      const tail = output.trimEnd().split(/\r?\n/).slice(-TAIL_LINES).join("\n");
      reject(new ComposeFailedError(`${commandLine} failed (${code === null ? `killed by ${signal}` : `exit code ${code}`})${tail ? `:\n${tail}` : "."}`));
    });
  });
}
