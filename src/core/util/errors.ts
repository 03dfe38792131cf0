/**
 * Base of every error Hangar reports to a user. The message says what failed,
 * why, and what to do; `hint` carries the "what to do" separately so UIs can
 * show it as an action.
 */
export class HangarError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} ${hint}` : message);
    this.name = new.target.name;
  }
}

/** A file Hangar was asked to create is already there; nothing was written. */
export class FileExistsError extends HangarError {
  constructor(readonly path: string) {
    super(`${path} already exists.`, "Open it instead, or move it away first.");
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The user cancelled; what was undone is in the message. UIs show it quietly, not as a failure. */
export class CancelledError extends HangarError {}
