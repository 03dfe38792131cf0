import { createReadStream } from "node:fs";
import * as path from "node:path";
import type { ImageStore } from "../images/image-store";
import { tarEntries } from "../images/tar-entries";

/**
 * Which of `wanted` (absolute paths) exist in an image, reading only its
 * layers' tar headers, oldest first, with Docker's whiteouts (a `.wh.` entry
 * deletes its path, `.wh..wh..opq` empties its folder). WORKDIR asks, so a
 * folder the image already has keeps its owner and mode, as in Docker.
 */
export async function existingPaths(store: ImageStore, imageId: string | undefined, wanted: string[]): Promise<Set<string>> {
  const want = new Set(wanted.map((p) => p.replace(/^\/+/, "")));
  const present = new Set<string>();
  if (!imageId || !want.size) return present;
  for (const layer of await store.layerFiles(imageId)) {
    for await (const { header, body } of tarEntries(createReadStream(layer), layer)) {
      body.resume();
      const name = header.name.replace(/^\.?\/+/, "").replace(/\/+$/, "");
      const base = path.posix.basename(name);
      const dir = path.posix.dirname(name) === "." ? "" : path.posix.dirname(name);
      if (base === ".wh..wh..opq") {
        for (const p of [...present]) if (dir === "" || p.startsWith(`${dir}/`)) present.delete(p);
      } else if (base.startsWith(".wh.")) {
        const gone = dir ? `${dir}/${base.slice(4)}` : base.slice(4);
        for (const p of [...present]) if (p === gone || p.startsWith(`${gone}/`)) present.delete(p);
      } else if (want.has(name)) present.add(name);
    }
  }
  return new Set([...present].map((p) => `/${p}`));
}
