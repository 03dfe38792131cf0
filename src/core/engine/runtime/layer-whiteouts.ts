import { createReadStream, createWriteStream } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { safeEntryPath, tarEntries, whiteoutOf } from "../images/tar-entries";

const WHITEOUT = ".wh.";

/**
 * A layer's whiteouts (Docker's rules): `dir/.wh.name` deletes `dir/name`
 * from the layers below; `dir/.wh..wh..opq` hides everything below in `dir`.
 * Every entry name (and hard-link target) is checked as the host checks it:
 * `..` climbing out, or a whiteout naming nothing, "." or ".." (`.wh.`,
 * `.wh..`, `.wh...`), is refused with ImageArchiveError, never skipped.
 */
export async function whiteoutsOf(layerFile: string): Promise<{ deleted: string[]; opaque: string[] }> {
  const deleted: string[] = [];
  const opaque: string[] = [];
  const label = `Layer ${layerFile}`;
  for await (const { header, body } of tarEntries(createReadStream(layerFile), label)) {
    body.resume();
    const w = whiteoutOf(safeEntryPath(header.name, label, "strip"), label);
    if (header.type === "link") safeEntryPath(header.linkname ?? "", label, "strip");
    if (w?.kind === "opaque") opaque.push(w.dir);
    else if (w?.kind === "delete") deleted.push(w.path);
  }
  return { deleted, opaque };
}

/**
 * An overlay upper directory's tar (as the guest's tar writes it) as a
 * Docker layer: a 0/0 character device is overlay's whiteout and becomes an
 * empty `.wh.<name>`; each folder in `opaque` (relative paths) gets
 * `.wh..wh..opq` after its own entry; entries inside a folder of `excluded`
 * (absolute paths) are left out; everything else passes unchanged.
 */
export async function overlayToLayer(upperTar: Buffer, file: string, opaque: string[] = [], excluded: string[] = []): Promise<void> {
  const inside = excluded.map((p) => p.replace(/^\/+|\/+$/g, "")).filter(Boolean);
  const isExcluded = (rel: string): boolean => inside.some((dir) => rel.startsWith(`${dir}/`));
  const opaqueDirs = new Set(opaque.map((d) => d.replace(/^\.\//, "").replace(/\/+$/, "")));
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(file));
  for await (const { header, body } of tarEntries(Readable.from([upperTar]), "The container's changes")) {
    const rel = safeEntryPath(header.name, "The container's changes", "strip");
    if (rel === "" || isExcluded(rel)) {
      body.resume();
      continue;
    }
    if (header.type === "character-device" && !header.devmajor && !header.devminor) {
      body.resume();
      const dir = path.posix.dirname(rel);
      // With its (empty) body given, so tar-stream does not wait for one.
      pack.entry({ name: `${dir === "." ? "" : `${dir}/`}${WHITEOUT}${path.posix.basename(rel)}`, size: 0, mode: 0o644, mtime: header.mtime }, Buffer.alloc(0));
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    await new Promise<void>((resolve, reject) => pack.entry({ ...header, name: header.type === "directory" ? `${rel}/` : rel }, Buffer.concat(chunks), (err) => (err ? reject(err) : resolve())));
    if (header.type === "directory" && opaqueDirs.has(rel) && !inside.includes(rel))
      pack.entry({ name: `${rel}/${WHITEOUT}${WHITEOUT}.opq`, size: 0, mode: 0o644, mtime: header.mtime }, Buffer.alloc(0));
  }
  pack.finalize();
  await writing;
}
