import { HangarError } from "../../util/errors";

/**
 * Errors of volumes and container mounts. The API server maps them to
 * Docker's statuses: not found → 404, in use → 409, bad input → 400.
 * Messages follow Docker's wording where clients or scripts may match on it.
 */

/** No volume has the name. */
export class VolumeNotFoundError extends HangarError {
  constructor(readonly volume: string) {
    super(`get ${volume}: no such volume`);
  }
}

/** The volume is mounted by containers (running or not), so it cannot go. */
export class VolumeInUseError extends HangarError {
  constructor(
    readonly volume: string,
    readonly containers: string[],
  ) {
    super(`remove ${volume}: volume is in use - [${containers.join(", ")}]`, "Remove those containers first (docker rm), then the volume.");
  }
}

/** A volume name, driver or option, or a mount (-v, --mount, --tmpfs) the engine cannot take as given; nothing was changed. */
export class MountInvalidError extends HangarError {}
