import { RegistryError } from "../engine/registry/registry-client";
import { ImageArchiveError, ImageConflictError, ImageNotFoundError, InvalidReferenceError } from "../engine/images/image-store";
import { ContainerConflictError, ContainerInvalidError, ContainerNotFoundError } from "../engine/containers/container-engine";
import { NetworkUnsupportedError } from "../engine/containers/container-networking";
import { NetworkConflictError, NetworkInvalidError, NetworkNotFoundError } from "../engine/networks/network-store";
import { MountInvalidError, VolumeInUseError, VolumeNotFoundError } from "../engine/volumes/volume-errors";
import { ExecNotFoundError } from "../engine/containers/container-execs";
import { errorMessage, HangarError } from "../util/errors";

/**
 * Errors of the API layer itself, each with the HTTP status Docker answers
 * for its kind. Clients show the message as "Error response from daemon:
 * <message>", so messages read well after that prefix.
 */
export class ApiError extends HangarError {
  constructor(
    readonly status: number,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** 400: a query parameter, path or body the engine cannot use. */
export class BadParameterError extends ApiError {
  constructor(message: string, hint?: string) {
    super(400, message, hint);
  }
}

/** 404: the thing named does not exist. */
export class NotFoundError extends ApiError {
  constructor(message: string, hint?: string) {
    super(404, message, hint);
  }
}

/** 409: the thing is in a state that forbids the request (not running, paused, already started). */
export class ConflictError extends ApiError {
  constructor(message: string, hint?: string) {
    super(409, message, hint);
  }
}

/** 501: Docker has this endpoint or option; Hangar's engine does not yet. */
export class NotImplementedError extends ApiError {
  constructor(message: string, hint?: string) {
    super(501, message, hint);
  }
}

/** Docker's status for an error thrown anywhere below a route: the engine's typed errors map as Docker's errdefs do. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof ImageNotFoundError || err instanceof ContainerNotFoundError || err instanceof NetworkNotFoundError || err instanceof ExecNotFoundError) return 404;
  if (err instanceof NetworkConflictError) return 409;
  if (err instanceof NetworkInvalidError || err instanceof NetworkUnsupportedError) return 400;
  if (err instanceof ContainerConflictError) return 409;
  if (err instanceof ContainerInvalidError) return 400;
  if (err instanceof ImageConflictError) return 409;
  if (err instanceof ImageArchiveError || err instanceof InvalidReferenceError) return 400;
  if (err instanceof VolumeNotFoundError) return 404;
  if (err instanceof VolumeInUseError) return 409;
  if (err instanceof MountInvalidError) return 400;
  if (err instanceof RegistryError) return err.status === 400 || err.status === 404 ? err.status : err.status === 401 || err.status === 403 ? 401 : 500;
  return 500;
}

/** Docker's error body. A non-Hangar error (a bug) still gets a message, never a stack. */
export function errorBody(err: unknown): { message: string } {
  return { message: err instanceof HangarError ? err.message : `Hangar's engine failed: ${errorMessage(err)}` };
}
