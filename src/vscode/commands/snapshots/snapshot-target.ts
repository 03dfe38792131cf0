import { HangarError } from "../../../core/util/errors";
import { SnapshotItem } from "../../tree/machines/machines-tree";

/** The snapshot a command acts on: a Machines view item, or its plain copy when routed through the command service. */
export function snapshotTarget(args: unknown[]): Pick<SnapshotItem, "machine" | "snapshot"> {
  const item = args[0] as Partial<SnapshotItem> | undefined;
  if (!(item instanceof SnapshotItem) && !(item?.machine && item.snapshot)) throw new HangarError("Choose a snapshot in the Machines view (expand a machine to see its snapshots).");
  return item as Pick<SnapshotItem, "machine" | "snapshot">;
}
