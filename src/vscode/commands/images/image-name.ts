import { parseTagTarget } from "../../../core/engine/images/image-reference";
import { errorMessage } from "../../../core/util/errors";

/** An input box's check of an image name (repository[:tag]): Docker's own message while it is not one. */
export function checkImageName(value: string): string | undefined {
  try {
    parseTagTarget(value.trim());
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
