import type { ImageInfo } from "dockerode";
import * as vscode from "vscode";
import { apiRef, groupImages, shortId } from "../../../core/docker/listing/image-groups";
import { CancelledError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";

/** An image a command acts on: its reference (repo:tag, or ID when untagged). */
export interface ImageTarget {
  ref: string;
  id?: string;
}

/** The image from a view item, a reference string (tests, other extensions), or a quick pick. */
export async function imageTarget(hangar: HangarContext, arg: unknown, placeHolder: string): Promise<ImageTarget> {
  const item = arg as { ref?: string; tag?: { image: ImageInfo } } | string | undefined;
  if (typeof item === "string") return { ref: item };
  if (item?.ref) return { ref: item.ref, id: item.tag?.image.Id };
  const images = await hangar.docker.use("Listing images", (d) => d.listImages());
  const picks = groupImages(images).flatMap((g) => g.tags.map((t) => ({ label: t.ref, description: shortId(t.image.Id), ref: apiRef(t), id: t.image.Id })));
  if (!picks.length) throw new CancelledError("There are no images.");
  const choice = await vscode.window.showQuickPick(picks, { placeHolder });
  if (!choice) throw new CancelledError("No image chosen.");
  return { ref: choice.ref, id: choice.id };
}
