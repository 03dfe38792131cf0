import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as tar from "tar-stream";

/**
 * A tar stream of host paths (relative to `root`), as the guest's busybox tar
 * extracts them: files with their mode (the exec bit) and mtime, directories,
 * and symlinks as links, owned by `owner` (tar run by root in the guest keeps
 * it: rsync-type folders belong to the SSH user, as Vagrant's rsync__chown).
 * Paths that vanished meanwhile are skipped. Returns the archive and how many
 * entries it holds.
 */
export async function packPaths(root: string, relPaths: string[], owner: GuestOwner = { uid: 0, gid: 0 }): Promise<{ archive: Buffer; entries: number }> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => pack.on("end", resolve).on("error", reject));
  let entries = 0;
  for (const rel of relPaths) {
    const abs = path.join(root, rel);
    const st = await fs.lstat(abs).catch(() => undefined);
    if (!st) continue;
    const name = rel.split(path.sep).join("/");
    if (st.isSymbolicLink()) pack.entry({ name, type: "symlink", linkname: await fs.readlink(abs), mode: 0o777, ...owner });
    else if (st.isDirectory()) pack.entry({ name, type: "directory", mode: st.mode & 0o7777, mtime: st.mtime, ...owner });
    else if (st.isFile()) {
      const data = await fs.readFile(abs).catch(() => undefined);
      if (!data) continue;
      pack.entry({ name, mode: st.mode & 0o7777, mtime: st.mtime, ...owner }, data);
    } else continue;
    entries++;
  }
  pack.finalize();
  await ended;
  return { archive: Buffer.concat(chunks), entries };
}

export interface GuestOwner {
  uid: number;
  gid: number;
}

/** Every path under `root` (parents before children, sorted), minus excluded ones. */
export async function walkTree(root: string, excluded: (rel: string, isDir: boolean) => boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (excluded(relPath, e.isDirectory())) continue;
      out.push(relPath);
      if (e.isDirectory()) await walk(relPath);
    }
  };
  await walk("");
  return out;
}
