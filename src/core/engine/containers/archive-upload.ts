import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { ImageArchiveError } from "../images/image-errors";
import { safeEntryPath, tarEntries } from "../images/tar-entries";

/**
 * A `docker cp` upload (PUT /containers/{id}/archive) made ready for the
 * engine machine: every name checked relative (a leading "/" stripped, a
 * `..` that climbs out refused, so nothing lands outside the destination —
 * the guest extracts inside the container's root besides), hard link
 * targets likewise, and ownership set to the container's root (0:0) unless
 * `copyUIDGID` (docker cp -a) keeps the archive's numeric IDs. Returns the
 * rewritten tar and its entries, for the guest's noOverwriteDirNonDir check.
 */
export async function prepareUpload(body: Buffer, copyUIDGID: boolean): Promise<{ tar: Buffer; entries: Array<{ dir: boolean; name: string }> }> {
  const label = "The archive to copy into the container";
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const packed = new Promise<void>((resolve, reject) => {
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  const entries: Array<{ dir: boolean; name: string }> = [];
  for await (const { header, body: data } of tarEntries(Readable.from([body]), label)) {
    const name = safeEntryPath(header.name, label, "strip");
    const bytes: Buffer[] = [];
    for await (const c of data) bytes.push(c as Buffer);
    if (name === "") continue; // the destination itself
    if (name.includes("\n")) throw new ImageArchiveError(`${label} holds an entry whose name has a line break (${JSON.stringify(name)}); Hangar's engine cannot copy it.`);
    const dir = header.type === "directory";
    const linkname = header.type === "link" && header.linkname ? safeEntryPath(header.linkname, label, "strip") : header.linkname;
    entries.push({ dir, name });
    const owner = copyUIDGID ? { uid: header.uid, gid: header.gid } : { uid: 0, gid: 0 };
    await new Promise<void>((resolve, reject) =>
      pack.entry({ ...header, ...owner, uname: "", gname: "", name: dir ? `${name}/` : name, linkname }, Buffer.concat(bytes), (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await packed;
  return { tar: Buffer.concat(chunks), entries };
}
