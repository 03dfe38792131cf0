import { constants, promises as fs, type Stats } from "node:fs";
import * as path from "node:path";
import * as tar from "tar-stream";

/**
 * A tar stream of host paths (relative to `root`), as the guest's busybox tar
 * extracts them: files with their mode (the exec bit) and mtime, directories,
 * and symlinks as links, owned by `owner` (tar run by root in the guest keeps
 * it: rsync-type folders belong to the SSH user, as Vagrant's rsync__chown).
 * Paths that vanished meanwhile are skipped, and so are files that are no
 * longer the ones listed or lie outside `root` (readConfined). Returns the
 * archive and how many entries it holds.
 */
export async function packPaths(root: string, relPaths: string[], owner: GuestOwner = { uid: 0, gid: 0 }): Promise<{ archive: Buffer; entries: number }> {
  const realRoot = await fs.realpath(root);
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
      const data = await readConfined(abs, st, realRoot);
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

/**
 * A file's bytes, only when the file opened is the one listed and lies inside
 * `realRoot`. The tree may change while it is packed (a guest writes into a
 * shared project folder): a file, or a folder above it, swapped for a symlink
 * in the meantime is skipped, never followed out of the tree.
 */
async function readConfined(abs: string, listed: Stats, realRoot: string): Promise<Buffer | undefined> {
  const handle = await fs.open(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.ino !== listed.ino || st.dev !== listed.dev) return undefined;
    // Where the open file really is (Linux names it in /proc; elsewhere its resolved path, checked after opening).
    const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => fs.realpath(abs).catch(() => ""));
    return isInside(realRoot, opened) ? await handle.readFile() : undefined;
  } finally {
    await handle.close();
  }
}

/** `p` is `root` or lies under it (both absolute, resolved). */
export function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Every path under `root` (parents before children, sorted), minus excluded ones. Symlinks are listed, never followed. */
export async function walkTree(root: string, excluded: (rel: string, isDir: boolean) => boolean): Promise<string[]> {
  const out: string[] = [];
  const realRoot = await fs.realpath(root);
  const walk = async (rel: string): Promise<void> => {
    // A folder swapped for a symlink since it was listed is not entered.
    if (rel && !isInside(realRoot, await fs.realpath(path.join(root, rel)).catch(() => ""))) return;
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
