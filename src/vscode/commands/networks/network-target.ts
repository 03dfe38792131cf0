import * as vscode from "vscode";
import type { NetworkSummary } from "../../../core/docker/listing/resource-usage";
import { CancelledError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";

/** A network a command acts on: its name (or ID, when given one), and its ID when known. */
export interface NetworkTarget {
  ref: string;
  id?: string;
}

/** The network from a view item, a name or ID string (tests, other extensions), or a quick pick. */
export async function networkTarget(hangar: HangarContext, arg: unknown, placeHolder: string, filter: (n: NetworkSummary) => boolean = () => true): Promise<NetworkTarget> {
  const item = arg as { network?: NetworkSummary } | string | undefined;
  if (typeof item === "string") return { ref: item };
  if (item?.network) return { ref: item.network.Name, id: item.network.Id };
  const networks = ((await hangar.docker.use("Listing networks", (d) => d.listNetworks())) as NetworkSummary[]).filter(filter);
  if (!networks.length) throw new CancelledError("There are no networks to choose from.");
  const choice = await vscode.window.showQuickPick(
    networks.map((n) => ({ label: n.Name, description: [n.Driver, n.Id.slice(0, 12)].filter(Boolean).join(" · "), n })),
    { placeHolder },
  );
  if (!choice) throw new CancelledError("No network chosen.");
  return { ref: choice.n.Name, id: choice.n.Id };
}
