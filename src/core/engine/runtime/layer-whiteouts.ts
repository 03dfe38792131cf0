import { createReadStream } from "node:fs";
import * as path from "node:path";
import { safeEntryPath, tarEntries } from "../images/tar-entries";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * A layer's whiteouts (Docker's rules): `dir/.wh.name` deletes `dir/name`
 * from the layers below; `dir/.wh..wh..opq` hides everything below in `dir`.
 * The guest applies them before unpacking the layer's own files.
 */
export async function whiteoutsOf(layerFile: string): Promise<{ deleted: string[]; opaque: string[] }> {
  const deleted: string[] = [];
  const opaque: string[] = [];
  for await (const { header, body } of tarEntries(createReadStream(layerFile), `Layer ${layerFile}`)) {
    body.resume();
    const rel = safeEntryPath(header.name, `Layer ${layerFile}`, "strip");
    const base = path.posix.basename(rel);
    const dir = path.posix.dirname(rel);
    if (base === OPAQUE) opaque.push(dir === "." ? "" : dir);
    else if (base.startsWith(WHITEOUT)) {
      const name = base.slice(WHITEOUT.length);
      // ".wh.", ".wh.." and ".wh..." name nothing in the layer's folder (and must never become the folder or its parent).
      if (name === "" || name === "." || name === "..") continue;
      deleted.push(dir === "." ? name : `${dir}/${name}`);
    }
  }
  return { deleted, opaque };
}
