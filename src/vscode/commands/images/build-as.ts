import * as vscode from "vscode";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { BUILDING, buildDockerfile, pickDockerfile } from "./image-build";

/** The missing-image quick fix: builds the image a FROM names from another Dockerfile of the workspace. */
export const buildImageAs: HangarCommand = {
  id: "hangar.image.buildAs",
  requiresTrust: BUILDING,
  async run(context, name?: unknown, from?: unknown) {
    if (typeof name !== "string") throw new HangarError("Build As needs the image name to build.");
    const dockerfile = await pickDockerfile(`Build ${name} from which Dockerfile?`, from instanceof vscode.Uri ? from.fsPath : undefined, true);
    if (!dockerfile) throw new HangarError(`No other Dockerfile in this workspace could build ${name}.`, "Load it from an image archive instead, or write a Dockerfile for it.");
    return buildDockerfile(context, dockerfile, name);
  },
};
