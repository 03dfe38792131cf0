import type { ContainerInfo, ImageInfo } from "dockerode";
import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { apiRef, groupImages, shortId } from "../../../core/docker/listing/image-groups";
import { parseTagTarget } from "../../../core/engine/images/image-reference";
import { CancelledError, errorMessage } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";

/** A container a command acts on: from a view item, `{ id }` / an ID string (tests, other extensions), or a quick pick. */
export interface ContainerTarget {
  id: string;
  name: string;
  info?: ContainerInfo;
}

/** An image a command acts on: its reference (repo:tag, or ID when untagged). */
export interface ImageTarget {
  ref: string;
  id?: string;
}

export async function containerTarget(hangar: HangarContext, arg: unknown, placeHolder: string, states?: string[]): Promise<ContainerTarget> {
  const item = arg as { container?: ContainerInfo; name?: string; id?: string } | string | undefined;
  if (typeof item === "string") return { id: item, name: item };
  if (item?.container) return { id: item.container.Id, name: containerName(item.container), info: item.container };
  if (item?.id && !item.id.startsWith("container:")) return { id: item.id, name: item.name ?? item.id };
  const all = await hangar.docker.use("Listing containers", (d) => d.listContainers({ all: true }));
  const fit = all.filter((c) => !states || states.includes(c.State));
  if (!fit.length) throw new CancelledError(states ? `No container is ${states.join(" or ")}.` : "There are no containers.");
  const choice = await vscode.window.showQuickPick(
    fit.map((c) => ({ label: containerName(c), description: `${c.Image} · ${c.Status}`, c })),
    { placeHolder },
  );
  if (!choice) throw new CancelledError("No container chosen.");
  return { id: choice.c.Id, name: choice.label, info: choice.c };
}

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

/** Runs a Docker call with a notification that can be cancelled (the request is aborted). */
export function withDockerProgress<T>(title: string, fn: (signal: AbortSignal, report: (message: string) => void) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return fn(abort.signal, (message) => progress.report({ message }));
  });
}

/** An input box's check of an image name (repository[:tag]): Docker's own message while it is not one. */
export function checkImageName(value: string): string | undefined {
  try {
    parseTagTarget(value.trim());
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}
