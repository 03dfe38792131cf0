import { createReadStream } from "node:fs";
import type { ImageStore } from "../images/image-store";
import { safeEntryPath, tarEntries, whiteoutOf } from "../images/tar-entries";

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
      const name = safeEntryPath(header.name, layer, "strip");
      const w = whiteoutOf(name, layer);
      if (w?.kind === "opaque") {
        for (const p of [...present]) if (w.dir === "" || p.startsWith(`${w.dir}/`)) present.delete(p);
      } else if (w?.kind === "delete") {
        for (const p of [...present]) if (p === w.path || p.startsWith(`${w.path}/`)) present.delete(p);
      } else if (!w && want.has(name)) present.add(name);
    }
  }
  return new Set([...present].map((p) => `/${p}`));
}
