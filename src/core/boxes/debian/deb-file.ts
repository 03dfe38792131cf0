import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { HangarError } from "../../util/errors";
import { xzDecompress } from "./xz";

export interface DebEntry {
  /** Normalised, relative, no leading "./". */
  path: string;
  type: "file" | "directory" | "symlink" | "link";
  mode: number;
  linkname?: string;
  /** For files the filter kept. */
  data?: Buffer;
}

/**
 * Reads a .deb without dpkg (so boxes build on macOS and Windows too): the ar
 * container, then its data.tar.xz. `want(path)` decides which entries are
 * kept (file contents are read only for those).
 */
export async function readDebData(file: string, want: (entryPath: string) => boolean): Promise<DebEntry[]> {
  const buf = await fs.readFile(file);
  const member = arMembers(buf, file).find((m) => m.name.startsWith("data.tar"));
  if (!member) throw new HangarError(`${path.basename(file)} has no data.tar member: it is not a Debian package.`);
  if (!member.name.endsWith(".xz")) throw new HangarError(`${path.basename(file)} uses ${member.name}; Hangar reads data.tar.xz packages (Debian's default).`);
  const entries: DebEntry[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const p = normalise(header.name, file);
      const type = header.type === "directory" ? "directory" : header.type === "symlink" ? "symlink" : header.type === "link" ? "link" : header.type === "file" ? "file" : undefined;
      if (!p || !type || !want(p)) {
        stream.on("end", next).resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        const linkname = header.linkname ? (type === "link" ? normalise(header.linkname, file) : header.linkname) : undefined;
        entries.push({ path: p, type, mode: header.mode ?? 0o644, ...(linkname ? { linkname } : {}), ...(type === "file" ? { data: Buffer.concat(chunks) } : {}) });
        next();
      });
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  xzDecompress(Readable.from([member.data])).on("error", (e: Error) => extract.destroy(e)).pipe(extract);
  await done;
  return entries;
}

/** Members of an ar archive ("!<arch>\n", 60-byte headers, 2-byte alignment). */
function arMembers(buf: Buffer, file: string): Array<{ name: string; data: Buffer }> {
  if (buf.subarray(0, 8).toString("latin1") !== "!<arch>\n") throw new HangarError(`${path.basename(file)} is not an ar archive (a .deb starts with "!<arch>"); the download may be damaged.`);
  const out: Array<{ name: string; data: Buffer }> = [];
  let off = 8;
  while (off + 60 <= buf.length) {
    const name = buf.subarray(off, off + 16).toString("latin1").trim().replace(/\/$/, "");
    const size = Number(buf.subarray(off + 48, off + 58).toString("latin1").trim());
    if (!Number.isFinite(size) || off + 60 + size > buf.length) throw new HangarError(`${path.basename(file)} is truncated or damaged (member ${name}).`);
    out.push({ name, data: buf.subarray(off + 60, off + 60 + size) });
    off += 60 + size + (size % 2);
  }
  return out;
}

/** Rejects paths that would escape the extraction root. */
function normalise(name: string, file: string): string {
  const p = path.posix.normalize(name.replace(/^\.\//, "")).replace(/\/$/, "");
  if (p === "." || p === "") return "";
  if (p.startsWith("../") || p === ".." || p.startsWith("/")) throw new HangarError(`${path.basename(file)} contains an unsafe path (${name}); refusing to use it.`);
  return p;
}
