import * as vscode from "vscode";
import type { VolumeSummary } from "../../../core/docker/listing/resource-usage";
import { CancelledError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";

/** The volume's name from a view item, a name string (tests, other extensions), or a quick pick. */
export async function volumeTarget(hangar: HangarContext, arg: unknown, placeHolder: string): Promise<string> {
  const item = arg as { volume?: VolumeSummary } | string | undefined;
  if (typeof item === "string") return item;
  if (item?.volume) return item.volume.Name;
  const { Volumes } = (await hangar.docker.use("Listing volumes", (d) => d.listVolumes())) as { Volumes?: VolumeSummary[] | null };
  if (!Volumes?.length) throw new CancelledError("There are no volumes.");
  const choice = await vscode.window.showQuickPick(
    Volumes.map((v) => ({ label: v.Name, description: v.Driver })),
    { placeHolder },
  );
  if (!choice) throw new CancelledError("No volume chosen.");
  return choice.label;
}
