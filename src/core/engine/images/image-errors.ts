import { HangarError } from "../../util/errors";

/**
 * The image store's errors. The API server maps them to HTTP statuses as
 * Docker does: not found → 404, conflict → 409, bad archive or reference → 400.
 * Messages follow Docker's wording where clients may match on it.
 */

/** No image answers to the reference. */
export class ImageNotFoundError extends HangarError {
  constructor(readonly ref: string) {
    super(`No such image: ${ref}`);
  }
}

/** The operation would break something (an image in use, one with children, several tags) or the reference is ambiguous. */
export class ImageConflictError extends HangarError {}

/** A `docker load` archive or a layer tar is malformed, inconsistent or hostile; nothing was added. */
export class ImageArchiveError extends HangarError {}

/** Text that is not an image reference or tag (Docker: "invalid reference format"). */
export class InvalidReferenceError extends HangarError {}
