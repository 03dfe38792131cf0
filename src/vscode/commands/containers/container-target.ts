import type { ContainerInfo } from "dockerode";
import * as vscode from "vscode";
import { containerName } from "../../../core/docker/listing/container-groups";
import { CancelledError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";

/** A container a command acts on: from a view item, `{ id }` / an ID string (tests, other extensions), or a quick pick. */
export interface ContainerTarget {
  id: string;
  name: string;
  info?: ContainerInfo;
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
