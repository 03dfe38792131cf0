import { promises as fs } from "node:fs";

/** Whether something is at `p` (symlinks followed); any error, a missing parent or a denied search included, counts as no. */
export function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
