import * as vscode from "vscode";
import type { ProjectMachines } from "../../../core/machines/project-machines";
import { CancelledError } from "../../../core/util/errors";
import type { MachineEntry, MachineRef } from "../../workspace/workspace-machines";
import type { CommandContext, HangarCommand } from "../hangar-command";
import { machineCommand } from "./machine-command";

/** The Restricted Mode precondition of machine commands: they evaluate the workspace's Vagrantfile and start what it defines. */
export const MACHINE_COMMANDS = "Running machine commands from a workspace Vagrantfile";

export interface OperationContext {
  project: ProjectMachines;
  /** Core progress callback: fraction 0..1 and a message, also written to the log. */
  progress(fraction: number, message: string): void;
  /** Machine output (provisioners), to the Hangar log. */
  output(line: string, stream: "stdout" | "stderr"): void;
  signal: AbortSignal;
  /** `up` of one machine with this operation's progress, output and cancellation. */
  up(name: string): ReturnType<ProjectMachines["up"]>;
}

/**
 * Runs a machine operation with a progress notification (cancellable when the
 * operation honours its signal), its log in the Hangar output channel, and a
 * refresh of the views afterwards — success or not. Failures propagate to
 * registerCommands, which shows them with a "Show Log" action.
 */
export async function runMachineOperation<T>(
  { hangar, withProgress }: CommandContext,
  target: MachineRef,
  title: string,
  op: (c: OperationContext) => Promise<T>,
  cancellable = false,
  /** The caller's own signal (a script's, a test's), honoured beside the notification's Cancel. */
  callerSignal?: AbortSignal,
): Promise<T> {
  const project = hangar.machines.project(target.vagrantfile);
  hangar.log.info(`${title} (${target.vagrantfile})`);
  try {
    return await withProgress({ title: `Hangar: ${title}`, cancellable }, ({ signal: cancelled, report }) => {
      const signal = callerSignal ? AbortSignal.any([cancelled, callerSignal]) : cancelled;
      signal.addEventListener("abort", () => hangar.log.info(`${title}: cancelling`));
      const progress = (fraction: number, message: string): void => {
        hangar.log.info(message);
        report(message, fraction);
      };
      const output = (line: string, stream: "stdout" | "stderr"): void => (stream === "stderr" ? hangar.log.warn(line) : hangar.log.info(line));
      return op({ project, signal, progress, output, up: (name) => project.up([name], { progress, onOutput: output, signal }) });
    });
  } catch (err) {
    // What a cancelled operation left (the machine still running, say) is news the user needs, not a status bar flash.
    if (err instanceof CancelledError) {
      hangar.log.info(err.message);
      void vscode.window.showInformationMessage(err.message);
    }
    throw err;
  } finally {
    hangar.machines.refresh();
  }
}

/** An AbortSignal passed in a command's arguments as `{ signal }` (scripts and tests cancel through it). */
export function callerSignal(args: unknown[]): AbortSignal | undefined {
  for (const a of args) {
    const signal = typeof a === "object" && a !== null ? (a as { signal?: unknown }).signal : undefined;
    if (signal instanceof AbortSignal) return signal;
  }
  return undefined;
}

/** What a cancellable command returns when it was cancelled: the message says what state it left. */
export interface Cancelled {
  cancelled: true;
  message: string;
}

/**
 * A lifecycle verb on one machine as a command: trust-gated like every
 * machine command, offered for the machines `allowed` accepts, run as one
 * operation in the machine daemon under a progress notification titled
 * `title` (cancellable when `cancellable`).
 */
export function machineOperationCommand<T>(o: {
  id: string;
  verb: string;
  allowed: (m: MachineEntry) => boolean;
  title: (name: string) => string;
  operation: (c: OperationContext, name: string) => Promise<T>;
  cancellable?: boolean;
  /** What follows a successful operation (a message, say). */
  after?: (context: CommandContext, name: string, result: T) => void;
}): HangarCommand {
  return machineCommand({
    id: o.id,
    requiresTrust: MACHINE_COMMANDS,
    verb: o.verb,
    allowed: o.allowed,
    async run(context, target, args): Promise<T | Cancelled> {
      let result: T;
      try {
        result = await runMachineOperation(context, target, o.title(target.name), (c) => o.operation(c, target.name), o.cancellable, callerSignal(args));
      } catch (err) {
        if (err instanceof CancelledError && o.cancellable) return { cancelled: true, message: err.message };
        throw err;
      }
      o.after?.(context, target.name, result);
      return result;
    },
  });
}
