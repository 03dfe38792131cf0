import { constants as fsc, createReadStream, promises as fs, type Stats } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import type * as tar from "tar-stream";
import { ImageArchiveError } from "./image-errors";
import { asArchiveError, MAX_SYMLINK_HOPS, safeEntryPath, tarEntries, whiteoutOf, type TarEntry } from "./tar-entries";

/**
 * Unpacks image layers (tar diffs) onto a folder on the host, with the rules
 * Docker applies (moby pkg/archive UnpackLayer):
 *
 *  - `.wh.<name>` deletes <name> of a lower layer; `.wh..wh..opq` makes its
 *    folder opaque: everything a lower layer put there goes, what this layer
 *    puts there stays. Other `.wh..wh.*` names (aufs bookkeeping) are skipped.
 *    Whiteout files themselves are never created. A whiteout naming nothing,
 *    "." or ".." (`.wh.`, `.wh..`, `.wh...`) is refused (ImageArchiveError):
 *    it would delete its own folder or the one above.
 *  - An entry replaces whatever is at its path, except a folder entry over a
 *    folder, which keeps the folder's contents.
 *  - Paths are read as the container will see them: "/etc/x" is "etc/x";
 *    symlinks in the folders of a path are followed, but inside the root —
 *    an absolute target starts at the root, ".." stops at the root — as
 *    Docker gets by unpacking in a chroot. The last component is never
 *    followed: a symlink there is replaced, not written through. More than
 *    MAX_SYMLINK_HOPS symlinks in one path is an error, never a fall-back to
 *    the host's own resolution. Files are created O_EXCL|O_NOFOLLOW and
 *    their mode and times set through the open handle.
 *  - A name or hard-link target that climbs out of the root with ".." is
 *    refused (ImageArchiveError) before anything is written for it.
 *  - Symlinks are created as they are, targets untouched. Hard links must
 *    name an earlier entry inside the root.
 *  - Modes (with setuid/setgid/sticky) and mtimes are applied; owners only
 *    when running as root. Folder modes and mtimes are applied after the
 *    layer's last entry, so a read-only folder still receives its files.
 *  - Device nodes and FIFOs are skipped: creating them needs privileges the
 *    host side does not have, and the guest's rootfs gets its /dev elsewhere.
 */

export interface ApplyLayerResult {
  /** Entries created: files, folders, links. */
  files: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

/** O_NOFOLLOW is POSIX; Windows has no symlinks to guard against here. */
const NOFOLLOW = fsc.O_NOFOLLOW ?? 0;
/** Entry types applyLayer creates; a missing type is a regular file (old tars). pax/GNU long-name headers never reach here: tar-stream folds them in. */
const CREATED_TYPES = new Set<string | null | undefined>(["file", "contiguous-file", "directory", "symlink", "link", undefined, null]);

/** How applyLayer reads its tar: a layer (whiteouts delete) or a plain archive such as a build context (whiteout names are files). */
export interface ApplyOptions {
  /** Names the archive in errors; the layer file's name by default. */
  label?: string;
  /** Apply whiteouts (a layer); false keeps `.wh.` entries as the files they are (a build context). Names that would whiteout ".", ".." or nothing are refused either way. */
  whiteouts?: boolean;
}

export async function applyLayer(layer: NodeJS.ReadableStream | string, rootDir: string, o: ApplyOptions = {}): Promise<ApplyLayerResult> {
  const root = path.resolve(rootDir);
  const label = o.label ?? (typeof layer === "string" ? path.basename(layer) : "the layer");
  const source = typeof layer === "string" ? createReadStream(layer) : layer;
  await fs.mkdir(root, { recursive: true });
  const unpacker = new LayerUnpacker(root, label, o.whiteouts ?? true);
  try {
    for await (const entry of tarEntries(source, label)) await unpacker.apply(entry);
  } catch (err) {
    throw asArchiveError(err, label);
  } finally {
    await unpacker.finish();
  }
  return { files: unpacker.files, bytes: unpacker.bytes };
}

/**
 * Reads a layer tar without unpacking it, checking every name and hard-link
 * target as applyLayer would. The store runs it on layers it is given, so a
 * hostile layer is refused at `docker load`, not when a container starts.
 */
export async function checkLayerTar(layer: NodeJS.ReadableStream | string, label: string): Promise<ApplyLayerResult> {
  const source = typeof layer === "string" ? createReadStream(layer) : layer;
  let files = 0;
  let bytes = 0;
  try {
    for await (const entry of tarEntries(source, label)) {
      const h = entry.header;
      whiteoutOf(safeEntryPath(h.name, label, "strip"), label);
      if (h.type === "link") safeEntryPath(h.linkname ?? "", label, "strip");
      if (h.type === "file" || h.type === "contiguous-file") bytes += h.size ?? 0;
      files++;
      await drain(entry.body);
    }
  } catch (err) {
    throw asArchiveError(err, label);
  }
  return { files, bytes };
}

class LayerUnpacker {
  files = 0;
  bytes = 0;
  /** Host paths this layer created (and their folders): what an opaque marker keeps. */
  private readonly written = new Set<string>();
  /** Folder metadata to apply once the layer is done. */
  private readonly folders: Array<{ at: string; mode: number; mtime?: Date }> = [];
  /** Lower layers' folders this layer had to make writable, with their modes to restore. */
  private readonly unlocked = new Map<string, number>();
  private readonly asRoot = process.getuid?.() === 0;

  constructor(
    private readonly root: string,
    private readonly label: string,
    private readonly whiteouts: boolean,
  ) {}

  async apply(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const rel = safeEntryPath(h.name, this.label, "strip");
    const linkRel = h.type === "link" ? safeEntryPath(h.linkname ?? "", this.label, "strip") : undefined;
    if (rel === "") return drain(entry.body); // the root itself: its mode is the runtime's business
    const base = path.posix.basename(rel);
    // Checked before anything resolves: `.wh...` must never become "<parent>/..".
    const whiteout = whiteoutOf(rel, this.label);
    const parent = await this.resolve(path.posix.dirname(rel), true, rel);

    if (whiteout && this.whiteouts) {
      await drain(entry.body);
      if (whiteout.kind === "opaque") await this.clearOpaque(parent);
      else if (whiteout.kind === "delete") {
        const victim = path.join(parent, path.posix.basename(whiteout.path));
        await this.writable(parent, () => removeTree(victim));
      }
      return;
    }

    if (!CREATED_TYPES.has(h.type)) return drain(entry.body); // devices, FIFOs: see the header comment

    const target = path.join(parent, base);
    await this.makeFolders(parent, rel);
    const existing = await lstatOrUndefined(target);
    if (existing && !(existing.isDirectory() && h.type === "directory")) await this.writable(parent, () => removeTree(target));
    this.markWritten(target);
    const mode = (h.mode ?? 0o644) & 0o7777;

    switch (h.type) {
      case "directory":
        if (!existing?.isDirectory()) await this.writable(parent, () => fs.mkdir(target, { mode: 0o700 }));
        await this.chown(target, h);
        this.folders.push({ at: target, mode, mtime: h.mtime });
        await drain(entry.body);
        break;
      case "symlink":
        await drain(entry.body);
        await this.writable(parent, () => fs.symlink(h.linkname ?? "", target));
        await this.chown(target, h);
        if (h.mtime) await fs.lutimes(target, h.mtime, h.mtime).catch(() => undefined); // not every filesystem keeps symlink times
        break;
      case "link": {
        await drain(entry.body);
        const source = await this.resolve(linkRel ?? "", false, `${rel}'s link target ${linkRel ?? ""}`);
        const st = await lstatOrUndefined(source);
        if (!st) throw new ImageArchiveError(`${this.label} holds a hard link "${h.name}" to "${h.linkname}", which is not in the layer or below it.`, "The layer is damaged.");
        if (st.isDirectory())
          throw new ImageArchiveError(`${this.label} holds a hard link "${h.name}" to the folder "${h.linkname}"; folders cannot be hard-linked.`, "The layer is damaged or hostile.");
        // A link to a symlink is a second symlink (link(2) on a symlink is not portable).
        if (st.isSymbolicLink()) await this.writable(parent, async () => fs.symlink(await fs.readlink(source), target));
        else await this.writable(parent, () => fs.link(source, target));
        break;
      }
      default: {
        // "file", "contiguous-file", or no type (old tars)
        // O_EXCL|O_NOFOLLOW: never through a symlink (the path was emptied above); bytes, owner, mode and times through this one handle.
        const file = await this.writable(parent, () => fs.open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | NOFOLLOW, 0o600));
        try {
          for await (const chunk of entry.body) await writeAll(file, chunk as Buffer);
          if (this.asRoot) await file.chown(h.uid ?? 0, h.gid ?? 0); // before chmod: chown clears setuid/setgid
          await file.chmod(mode);
          if (h.mtime) await file.utimes(h.mtime, h.mtime);
        } finally {
          await file.close();
        }
        this.bytes += h.size ?? 0;
        break;
      }
    }
    this.files++;
  }

  /** Applies folder modes and times last (deepest first), then gives back modes this layer had to lift. */
  async finish(): Promise<void> {
    for (const [dir, mode] of this.unlocked) {
      const st = await lstatOrUndefined(dir);
      if (st?.isDirectory()) await fs.chmod(dir, mode);
    }
    for (const f of this.folders.reverse()) {
      const st = await lstatOrUndefined(f.at);
      if (!st?.isDirectory()) continue; // replaced by a later entry; never chmod through a symlink
      await fs.chmod(f.at, f.mode);
      if (f.mtime) await fs.utimes(f.at, f.mtime, f.mtime);
    }
  }

  /**
   * The host path `rel` names inside the root, following symlinks as the
   * container would but never leaving the root (see the header comment).
   * The result is made of real folders under the root, then possibly
   * components that do not exist yet.
   */
  private async resolve(rel: string, followLast: boolean, shown: string): Promise<string> {
    const pending = rel.split("/").filter((p) => p !== "" && p !== ".");
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === "..") {
        done.pop(); // at the root, ".." is the root
        continue;
      }
      if (pending.length === 0 && !followLast) {
        done.push(part);
        break;
      }
      const here = path.join(this.root, ...done, part);
      const st = await lstatOrUndefined(here);
      if (st?.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS)
          throw new ImageArchiveError(
            `${this.label} holds a path through too many levels of symbolic links: "${shown}" passes more than ${MAX_SYMLINK_HOPS} symlinks (a symlink loop?).`,
            "The layer is damaged or hostile; nothing outside its root was touched.",
          );
        const target = await fs.readlink(here);
        if (target.startsWith("/")) done.length = 0;
        pending.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
        continue;
      }
      done.push(part);
    }
    return path.join(this.root, ...done);
  }

  /** Creates the missing folders of `dir` (mode 0755, as Docker does for folders a layer does not list). */
  private async makeFolders(dir: string, rel: string): Promise<void> {
    const st = await lstatOrUndefined(dir);
    if (st?.isDirectory()) return;
    if (st) throw new ImageArchiveError(`${this.label} holds "${rel}", but a lower entry at its folder is not a folder.`, "The layer does not fit the layers below it.");
    const parent = path.dirname(dir);
    if (parent !== dir && parent.startsWith(this.root)) await this.makeFolders(parent, rel);
    await this.writable(parent, () => fs.mkdir(dir, { mode: 0o755 }));
    this.markWritten(dir);
  }

  private markWritten(p: string): void {
    for (let at = p; at.length > this.root.length && !this.written.has(at); at = path.dirname(at)) this.written.add(at);
  }

  /** Removes what lower layers left in `dir`: everything this layer did not write. */
  private async clearOpaque(dir: string): Promise<void> {
    const st = await lstatOrUndefined(dir);
    if (!st?.isDirectory()) return;
    this.markWritten(dir);
    for (const name of await fs.readdir(dir)) {
      const child = path.join(dir, name);
      if (!this.written.has(child)) await this.writable(dir, () => removeTree(child));
      else if ((await lstatOrUndefined(child))?.isDirectory()) await this.clearOpaque(child);
    }
  }

  /**
   * Runs `op`, which changes the folder `dir`. Not running as root, a folder
   * a lower layer made read-only refuses that: lift its owner bits, retry,
   * and restore the mode when the layer is done.
   */
  private async writable<T>(dir: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (this.asRoot || (code !== "EACCES" && code !== "EPERM")) throw err;
      const st = await lstatOrUndefined(dir);
      if (!st?.isDirectory() || (st.mode & 0o700) === 0o700) throw err;
      if (!this.unlocked.has(dir)) this.unlocked.set(dir, st.mode & 0o7777);
      await fs.chmod(dir, (st.mode & 0o7777) | 0o700);
      return op();
    }
  }

  private async chown(target: string, h: tar.Header): Promise<void> {
    if (this.asRoot) await fs.lchown(target, h.uid ?? 0, h.gid ?? 0);
  }
}

/** rm -rf that never follows symlinks and, not running as root, gets through read-only folders a lower layer made. */
async function removeTree(p: string): Promise<void> {
  try {
    await fs.rm(p, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw err;
    await unlockTree(p);
    await fs.rm(p, { recursive: true, force: true });
  }
}

async function unlockTree(p: string): Promise<void> {
  const st = await lstatOrUndefined(p);
  if (!st?.isDirectory()) return;
  await fs.chmod(p, (st.mode & 0o7777) | 0o700);
  for (const name of await fs.readdir(p)) await unlockTree(path.join(p, name));
}

async function writeAll(file: fs.FileHandle, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) at += (await file.write(data, at, data.length - at)).bytesWritten;
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

function drain(body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    body.once("end", resolve).once("error", reject);
    body.resume();
  });
}
