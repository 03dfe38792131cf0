import * as vscode from "vscode";
import type { ProjectMachines } from "../../../core/machines/project-machines";
import type { HangarContext } from "../../hangar-context";
import type { MachineRef } from "../../workspace/workspace-machines";
import { requireTrust } from "../../workspace/workspace-trust";

export interface OperationContext {
  project: ProjectMachines;
  /** Core progress callback: fraction 0..1 and a message, also written to the log. */
  progress(fraction: number, message: string): void;
  /** Machine output (provisioners), to the Hangar log. */
  output(line: string, stream: "stdout" | "stderr"): void;
  signal: AbortSignal;
}

/**
 * Runs a machine operation with a progress notification (cancellable when the
 * operation honours its signal), its log in the Hangar output channel, and a
 * refresh of the views afterwards — success or not. Failures propagate to
 * registerCommands, which shows them with a "Show Log" action.
 */
export async function runMachineOperation<T>(hangar: HangarContext, target: MachineRef, title: string, op: (c: OperationContext) => Promise<T>, cancellable = false): Promise<T> {
  requireTrust("Running machine commands from a workspace Vagrantfile");
  const project = hangar.machines.project(target.vagrantfile);
  hangar.log.info(`${title} (${target.vagrantfile})`);
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Hangar: ${title}`, cancellable }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => {
        hangar.log.info(`${title}: cancelling`);
        abort.abort();
      });
      let last = 0;
      return op({
        project,
        signal: abort.signal,
        progress: (fraction, message) => {
          hangar.log.info(message);
          progress.report({ message, increment: Math.max(0, fraction * 100 - last) });
          last = Math.max(last, fraction * 100);
        },
        output: (line, stream) => (stream === "stderr" ? hangar.log.warn(line) : hangar.log.info(line)),
      });
    });
  } finally {
    hangar.machines.refresh();
  }
}
