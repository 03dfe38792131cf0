import type { HangarContext } from "../hangar-context";
import type { HangarTrees } from "../tree/registerTrees";

/** The extension's services, as every command handler sees them. */
export interface CommandEnv {
  hangar: HangarContext;
  trees: HangarTrees;
}

/** A running task's side of its progress notification. */
export interface TaskProgress {
  /** Aborted when the user presses Cancel (cancellable notifications only). */
  signal: AbortSignal;
  /** Shows `message`; with `fraction` (0..1) the bar also moves forward to it (never back). */
  report(message: string, fraction?: number): void;
}

export interface ProgressOptions {
  title: string;
  cancellable?: boolean;
}

/**
 * What a handler receives: the services, and the wrapper's progress
 * notification (its title usually names what the user picked, so the
 * handler opens it once it knows).
 */
export interface CommandContext extends CommandEnv {
  withProgress<T>(options: ProgressOptions, task: (progress: TaskProgress) => Promise<T>): Promise<T>;
}

/**
 * One palette/menu command, one per file (src/vscode/commands/<noun>/<verb>.ts).
 * registerCommands.ts registers it and owns what every command shares:
 * preconditions, error reporting, progress and cancellation.
 */
export interface HangarCommand {
  /** As in package.json's contributes.commands. */
  id: string;
  /** Precondition: in Restricted Mode the command is refused before it runs, naming this feature ("Building an image from this workspace"). */
  requiresTrust?: string;
  run(context: CommandContext, ...args: unknown[]): Promise<unknown> | unknown;
}
