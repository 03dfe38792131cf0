import { constants as fsc, promises as fs, type Stats } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { Readable } from "node:stream";
import { MAX_SYMLINK_HOPS, safeEntryPath, tarEntries, whiteoutOf } from "../images/tar-entries";
import { componentMatches, hasWildcard, type DockerIgnore } from "./dockerignore";
import { NOFOLLOW, openSource, type LayerItem } from "./layer-tar-writer";

/**
 * What COPY and ADD put in a layer: sources looked up in a root (the build
 * context, or an earlier stage's flattened filesystem), never leaving it —
 * symlinks are copied as symlinks and only followed, confined to the root,
 * in the folders of a source path — and laid out at the destination.
 *
 * The root is untrusted (a context is what a repository holds; a stage is
 * an image's files): every symlink is resolved here, component by
 * component, an absolute target starting again at the root and ".."
 * stopping at it, as Docker resolves them in scope. Past MAX_SYMLINK_HOPS
 * the path is refused ("too many levels of symbolic links"), never handed
 * to the host, so no host call below ever meets a symlink it would follow:
 * folders are read after lstat said they are folders, files are opened
 * O_NOFOLLOW.
 */

export interface SourceRoot {
  dir: string;
  ignore?: DockerIgnore;
  /** "build context" or "stage x": for messages. */
  label: string;
}

export interface Matched {
  host: string;
  stat: Stats;
  /** Path relative to the root, "/"-separated ("" is the root). */
  rel: string;
}

export class SourceError extends Error {}

/** The paths a COPY source names (wildcards expanded), none ignored; SourceError when none exists. */
export async function findSources(root: SourceRoot, src: string): Promise<Matched[]> {
  const parts = src.split("/").filter((p) => p !== "" && p !== ".");
  const clean: string[] = [];
  for (const p of parts) {
    if (p === "..") {
      if (clean.length === 0) throw new SourceError(`forbidden path outside the ${root.label}: ${src}`);
      clean.pop();
    } else clean.push(p);
  }
  let candidates: string[][] = [[]];
  for (const [i, part] of clean.entries()) {
    const last = i === clean.length - 1;
    const next: string[][] = [];
    for (const done of candidates) {
      const dir = await resolveInside(root, done, src);
      if (!hasWildcard(part)) {
        next.push(last ? [...done, part] : await confinedParts(root, [...done, part], src));
        continue;
      }
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) if (componentMatches(part, name)) next.push(last ? [...done, name] : await confinedParts(root, [...done, name], src));
    }
    candidates = next;
  }
  const out: Matched[] = [];
  for (const c of candidates) {
    const rel = c.join("/");
    if (rel !== "" && root.ignore?.excludes(rel)) continue;
    const host = path.join(await resolveInside(root, c.slice(0, -1), src), c[c.length - 1] ?? "");
    const stat = await fs.lstat(host).catch(() => undefined);
    if (stat) out.push({ host, stat, rel });
  }
  if (out.length === 0) throw new SourceError(`file not found in ${root.label}: ${src}`);
  return out;
}

/** Host path of the folders `parts` inside root, symlinks followed but kept inside root. */
async function resolveInside(root: SourceRoot, parts: string[], shown: string): Promise<string> {
  return path.join(root.dir, ...(await confinedParts(root, parts, shown)));
}

/**
 * `parts` with every symlink resolved inside the root: real folders under
 * it, then possibly names that do not exist. `shown` is the path the user
 * wrote, for the error.
 */
async function confinedParts(root: SourceRoot, parts: string[], shown: string): Promise<string[]> {
  const pending = [...parts];
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === "..") {
      done.pop(); // at the root, ".." is the root
      continue;
    }
    if (part === "" || part === ".") continue;
    const here = path.join(root.dir, ...done, part);
    const st = await fs.lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      // Giving up must fail: keeping the link as a plain component would let the host follow it.
      if (++hops > MAX_SYMLINK_HOPS) throw new TooManySymlinksError(shown, root.label);
      const target = await fs.readlink(here);
      if (target.startsWith("/")) done.length = 0;
      pending.unshift(...target.split("/"));
      continue;
    }
    done.push(part);
  }
  return done;
}

/** A source path whose symlinks loop, or chain past Linux's limit. */
export class TooManySymlinksError extends SourceError {
  constructor(
    readonly sourcePath: string,
    label: string,
  ) {
    super(`${sourcePath}: too many levels of symbolic links (more than ${MAX_SYMLINK_HOPS} in the ${label}; a symlink loop?). Fix or remove the symlinks on that path.`);
  }
}

/**
 * The bytes of the file `rel` names in the root (the Dockerfile, .dockerignore,
 * a stage's /etc/passwd), every symlink on the way — the last included —
 * resolved inside the root; undefined when there is no such regular file.
 */
export async function readInside(root: SourceRoot, rel: string): Promise<Buffer | undefined> {
  const parts = await confinedParts(root, rel.replace(/\\/g, "/").split("/"), rel);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(root.dir, ...parts), fsc.O_RDONLY | NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export interface PlaceOptions {
  /** Absolute destination in the image, "/"-separated. */
  dest: string;
  destIsDir: boolean;
  uid: number;
  gid: number;
  chmod?: number;
  ignore?: DockerIgnore;
  /** Extract local tar archives (ADD). */
  extractArchives?: boolean;
}

/** Layer items for the matched sources at the destination (parents not included). */
export async function placeSources(matched: Matched[], o: PlaceOptions): Promise<LayerItem[]> {
  const items: LayerItem[] = [];
  const destRel = o.dest.replace(/^\/+/, "").replace(/\/+$/, "");
  const at = (name: string): string => (destRel === "" ? name : name === "" ? destRel : `${destRel}/${name}`);
  for (const m of matched) {
    if (m.stat.isDirectory()) {
      // A folder's contents go into dest; dest itself takes the folder's mode.
      items.push(item(at(""), m.stat, o));
      await walk(m.host, m.rel, "", o, items, at);
    } else if (o.extractArchives && m.stat.isFile() && (await isTarArchive(m.host))) {
      items.push(...(await archiveItems(m.host, destRel)));
    } else {
      const name = o.destIsDir ? at(path.posix.basename(m.host)) : destRel;
      items.push(await leafItem(m.host, m.stat, name, o));
    }
  }
  for (const i of items) refuseBadWhiteout(i.name);
  return items;
}

/**
 * In a layer, `.wh.`, `.wh..` and `.wh...` would be whiteouts deleting their
 * own folder or the one above when the layer is applied: such a name in a
 * context (or an ADDed archive) fails the COPY instead of reaching a layer.
 */
function refuseBadWhiteout(name: string): void {
  try {
    whiteoutOf(name, "the layer");
  } catch {
    throw new SourceError(
      `"${name}" cannot be put in a layer: its name ${JSON.stringify(path.posix.basename(name))} is a whiteout (Docker's mark for a deleted file) that names no file of its folder. Rename it, or leave it out with .dockerignore.`,
    );
  }
}

async function walk(host: string, rel: string, under: string, o: PlaceOptions, items: LayerItem[], at: (n: string) => string): Promise<boolean> {
  let any = false;
  for (const name of (await fs.readdir(host)).sort()) {
    const childHost = path.join(host, name);
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const childUnder = under === "" ? name : `${under}/${name}`;
    const st = await fs.lstat(childHost);
    const ignored = o.ignore?.excludes(childRel) ?? false;
    if (st.isDirectory()) {
      if (ignored && !o.ignore?.hasExceptions) continue;
      const mark = items.length;
      const dirItem = item(at(childUnder), st, o);
      const inner = await walk(childHost, childRel, childUnder, o, items, at);
      if (ignored && !inner) continue;
      items.splice(mark, 0, dirItem);
      any = true;
    } else if (!ignored) {
      items.push(await leafItem(childHost, st, at(childUnder), o));
      any = true;
    }
  }
  return any;
}

function item(name: string, st: Stats, o: PlaceOptions): LayerItem {
  return { name, type: "directory", mode: o.chmod ?? st.mode & 0o7777, uid: o.uid, gid: o.gid, mtime: st.mtime };
}

async function leafItem(host: string, st: Stats, name: string, o: PlaceOptions): Promise<LayerItem> {
  const base = { name, uid: o.uid, gid: o.gid, mtime: st.mtime };
  if (st.isSymbolicLink()) return { ...base, type: "symlink", mode: 0o777, linkname: await fs.readlink(host) };
  if (!st.isFile()) throw new SourceError(`${name} is not a regular file, folder or symlink (sockets, FIFOs and devices cannot be copied)`);
  return { ...base, type: "file", mode: o.chmod ?? st.mode & 0o7777, source: host, size: st.size };
}

async function isTarArchive(file: string): Promise<boolean> {
  const handle = await openSource(file);
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    return bytesRead >= 262 && head.toString("latin1", 257, 262) === "ustar";
  } finally {
    await handle.close();
  }
}

/** The members of a local tar (gzip or not) laid out under destRel, as ADD extracts them. */
async function archiveItems(file: string, destRel: string): Promise<LayerItem[]> {
  const handle = await openSource(file);
  let data = await handle.readFile().finally(() => handle.close());
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  const items: LayerItem[] = [];
  const label = path.basename(file);
  for await (const entry of tarEntries(Readable.from([data]), label)) {
    const h = entry.header;
    const chunks: Buffer[] = [];
    for await (const chunk of entry.body) chunks.push(chunk as Buffer);
    const rel = safeEntryPath(h.name, label, "strip");
    if (rel === "") continue;
    const type = h.type === "directory" || h.type === "symlink" || h.type === "link" ? h.type : h.type === "file" || h.type === "contiguous-file" || !h.type ? "file" : undefined;
    if (!type) continue; // devices and FIFOs: the host cannot make them either
    const name = destRel === "" ? rel : `${destRel}/${rel}`;
    const linkname = type === "link" ? `${destRel === "" ? "" : destRel + "/"}${safeEntryPath(h.linkname ?? "", label, "strip")}` : (h.linkname ?? undefined);
    items.push({
      name,
      type,
      mode: h.mode ?? 0o644,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: h.mtime ?? new Date(0),
      ...(linkname ? { linkname } : {}),
      ...(type === "file" ? { body: Buffer.concat(chunks) } : {}),
    });
  }
  return items;
}
