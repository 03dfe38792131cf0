import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import type { DebEntry } from "../debian/deb-archive";
import { HangarError } from "../../util/errors";
import { FILE_TYPE_BITS } from "../../util/file-type-bits";

/**
 * Writes an ext3-style file system image (ext2 layout plus an empty JBD2
 * journal) from a list of entries, without mke2fs, root or native code, so a
 * box's root disk builds the same way on Linux, macOS and Windows with files
 * owned by root whoever runs the host. Linux mounts it with the ext4 driver;
 * the journal lets a killed machine recover by replay.
 *
 * Layout (what e2fsck checks, see the kernel's Documentation/filesystems/ext4):
 *  - 4 KiB blocks, groups of 32768 blocks, revision 1, 256-byte inodes;
 *    features has_journal, ext_attr, filetype, sparse_super, large_file (no
 *    resize_inode, dir_index, flex_bg, extents or checksums);
 *  - each group: [superblock + descriptor table copy, in groups 0, 1 and
 *    powers of 3, 5, 7], block bitmap, inode bitmap, inode table, data;
 *  - inodes 1–10 reserved, 2 the root, 8 the journal, 11 lost+found, then
 *    the tree depth first in name order; blocks are handed out in the same
 *    order from the first free one, so every group's used inodes and blocks
 *    are a prefix of it (the bitmaps follow from counts);
 *  - files map their blocks with direct and single/double/triple indirect
 *    blocks, each indirect block just before the blocks it points to.
 * Only blocks holding data are written; the rest of the host file stays a
 * hole. The same entries and options give the same bytes.
 */

export interface ExtImageOptions {
  /** Size of the disk in bytes; the file system uses whole 4 KiB blocks of it. */
  sizeBytes: number;
  /** Volume label, up to 16 bytes. */
  label?: string;
  /** 16 bytes; default derived from the options and the entries' paths, so output is deterministic. */
  uuid?: Buffer;
  /** Journal size in 4 KiB blocks (at least 1024); default 16 MiB below 1 GiB (4 MiB below 128 MiB), else 32 MiB. */
  journalBlocks?: number;
  /** Bytes of disk per inode; default 16384, as mke2fs. */
  inodeRatio?: number;
  /** Seconds since the epoch for the root, implicit directories, lost+found and the superblock; default the newest entry's mtime. */
  mtime?: number;
}

export interface ExtImageResult {
  /** Blocks in use, metadata included. */
  blocksUsed: number;
  /** Inodes in use, the 11 reserved ones included. */
  inodesUsed: number;
}

/** The entries cannot be written as a file system image (unsafe path, missing field, image too small). */
export class ExtImageError extends HangarError {}

const BS = 4096;
const BLOCKS_PER_GROUP = BS * 8; // one bitmap block's bits
const INODE_SIZE = 256;
const INODES_PER_BLOCK = BS / INODE_SIZE;
const PTRS = BS / 4; // block numbers per indirect block
const DESC_SIZE = 32;
const ROOT_INO = 2;
const JOURNAL_INO = 8;
const LOST_FOUND_INO = 11;
const FIRST_INO = 11;
const EXTRA_ISIZE = 32;
const MAX_LINKS = 65000; // ext4 without dir_nlink
const DEFAULT_INODE_RATIO = 16384;
const RESERVED_PERCENT = 5; // mke2fs's default, kept for root's daemons when users fill the disk
const FAST_SYMLINK_MAX = 59; // i_block holds 60 bytes, including a NUL
const WRITE_BATCH_BYTES = 32 << 20;
const WRITE_BATCH_BUFFERS = 1024; // IOV_MAX on Linux and macOS

type Kind = Exclude<DebEntry["type"], "hardlink">;

const TYPE_BITS: Record<Kind, number> = FILE_TYPE_BITS;

/** Directory entry file_type codes (the filetype feature). */
const DIRENT_TYPE: Record<Kind, number> = { file: 1, directory: 2, "char-device": 3, "block-device": 4, fifo: 5, symlink: 7 };

interface Node {
  kind: Kind;
  mode: number;
  uid: number;
  gid: number;
  /** undefined: an implicit directory, dated with the image's mtime. */
  mtime: number | undefined;
  /** A file's bytes, or a symlink's target. */
  data?: Buffer;
  major?: number;
  minor?: number;
  children?: Map<string, Node>;
  /** Names the inode has (non-directories). */
  names: number;
  ino: number;
  allocated: boolean;
}

interface Write {
  pos: number;
  buf: Buffer;
}

/**
 * Writes the image of `entries` into `file` (replaced, made sparse, `o.sizeBytes` long).
 * Entries are all read and checked before the file is touched: a refusal leaves no file.
 */
export async function writeExtImage(file: string, entries: Iterable<DebEntry> | AsyncIterable<DebEntry>, o: ExtImageOptions): Promise<ExtImageResult> {
  const options = checkOptions(o);
  const tree = new Tree();
  for await (const entry of entries) tree.add(entry);
  const mtime = o.mtime ?? tree.newestMtime;

  const order = numberInodes(tree.root, tree.lostFound);
  const maxIno = FIRST_INO + order.length; // inodes 1..maxIno are in use, nothing after
  const dirData = new Map<Node, Buffer>();
  const addDirectory = (dir: Node, parent: Node): void => {
    dirData.set(dir, directoryBlocks(dir, parent, dir === tree.lostFound));
    for (const [, child] of sortedChildren(dir)) if (child.kind === "directory") addDirectory(child, dir);
  };
  addDirectory(tree.root, tree.root);
  let contentBlocks = 0;
  for (const node of [tree.root, tree.lostFound, ...order]) contentBlocks += blocksWithIndirect(dataBlocks(node, dirData.get(node) ?? node.data));
  const uuid = o.uuid ?? defaultUuid(o, order);

  const geo = geometry(options.sizeBytes, options.inodeRatio);
  const journalBlocks = geo ? (o.journalBlocks ?? defaultJournalBlocks(geo.blocks)) : 0;
  if (!geo || !fits(geo, contentBlocks + blocksWithIndirect(journalBlocks), maxIno)) {
    throw tooSmall(options, contentBlocks, maxIno, o.journalBlocks, geo);
  }

  // Allocation: root, lost+found and the journal first, then the tree depth first.
  const writes: Write[] = [];
  const alloc = new Allocator(geo);
  const tables = new InodeTables(geo, maxIno);
  const dirsPerGroup = new Array<number>(geo.groups).fill(0);
  const place = (node: Node): void => {
    if (node.allocated) return;
    node.allocated = true;
    const data = dirData.get(node) ?? node.data;
    const nBlocks = dataBlocks(node, data);
    const fast = node.kind === "symlink" && nBlocks === 0;
    const iBlock = fast ? undefined : mapBlocks(alloc, writes, nBlocks, data);
    if (node.kind === "directory") dirsPerGroup[Math.floor((node.ino - 1) / geo.ipg)]++;
    tables.put(node.ino, inodeRecord(node, nBlocks, iBlock, mtime));
  };
  place(tree.root);
  place(tree.lostFound);
  const journalSuper = journalSuperblock(journalBlocks, uuid);
  const journalIBlock = mapBlocks(alloc, writes, journalBlocks, journalSuper);
  const journalSize = journalBlocks * BS;
  tables.put(JOURNAL_INO, inodeFields({ mode: 0o100600, uid: 0, gid: 0, mtime, size: journalSize, links: 1, blocks: blocksWithIndirect(journalBlocks), iBlock: journalIBlock }));
  for (const node of order) place(node);

  // Metadata: bitmaps and inode tables of every group, superblock and descriptor copies.
  const usedInodes = (g: number): number => Math.max(0, Math.min(geo.ipg, maxIno - g * geo.ipg));
  let freeBlocks = 0;
  let freeInodes = 0;
  const desc = Buffer.alloc(geo.gdtBlocks * BS);
  const bitmaps = new BitmapCache();
  for (let g = 0; g < geo.groups; g++) {
    const l = groupLayout(geo, g);
    const usedBlocks = l.dataStart - l.start + alloc.used[g];
    const groupFreeBlocks = l.end - l.start - usedBlocks;
    const groupFreeInodes = geo.ipg - usedInodes(g);
    freeBlocks += groupFreeBlocks;
    freeInodes += groupFreeInodes;
    const d = g * DESC_SIZE;
    desc.writeUInt32LE(l.blockBitmap, d);
    desc.writeUInt32LE(l.blockBitmap + 1, d + 4);
    desc.writeUInt32LE(l.blockBitmap + 2, d + 8);
    desc.writeUInt16LE(groupFreeBlocks, d + 12);
    desc.writeUInt16LE(groupFreeInodes, d + 14);
    desc.writeUInt16LE(dirsPerGroup[g], d + 16);
    writes.push({ pos: l.blockBitmap * BS, buf: bitmaps.get(usedBlocks, l.end - l.start) });
    writes.push({ pos: (l.blockBitmap + 1) * BS, buf: bitmaps.get(usedInodes(g), geo.ipg) });
    const table = tables.group(g);
    if (table) writes.push({ pos: (l.blockBitmap + 2) * BS, buf: table });
  }
  const sb = {
    geo,
    freeBlocks,
    freeInodes,
    mtime,
    uuid,
    label: o.label ?? "",
    journal: [...journalIBlock, Math.floor(journalSize / 2 ** 32), journalSize % 2 ** 32],
  };
  for (let g = 0; g < geo.groups; g++) {
    if (!hasSuper(g)) continue;
    const start = g * BLOCKS_PER_GROUP;
    // Group 0's superblock sits 1024 bytes into the disk (after the boot sector); the copies start their block.
    writes.push({ pos: g === 0 ? 1024 : start * BS, buf: superblock(sb, g) });
    writes.push({ pos: (start + 1) * BS, buf: desc });
  }

  await writeAll(file, options.sizeBytes, writes);
  return { blocksUsed: geo.blocks - freeBlocks, inodesUsed: geo.ipg * geo.groups - freeInodes };
}

// ---------------------------------------------------------------- entries

class Tree {
  readonly root: Node = directory(undefined);
  readonly lostFound: Node = { ...directory(undefined), mode: 0o700 };
  newestMtime = 0;

  constructor() {
    this.root.children!.set("lost+found", this.lostFound);
  }

  add(e: DebEntry): void {
    const parts = splitPath(e.path, e.path);
    checkNumbers(e);
    this.newestMtime = Math.max(this.newestMtime, e.mtime);
    if (parts.length === 0) {
      if (e.type !== "directory") throw new ExtImageError(`The entry for the root directory is a ${e.type}, not a directory.`);
      Object.assign(this.root, { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime });
      return;
    }
    const parent = this.parentDir(parts, e.path);
    const name = parts[parts.length - 1];
    const old = parent.children!.get(name);
    let node: Node;
    if (e.type === "hardlink") {
      const target = this.lookup(splitPath(e.linkname ?? "", e.path));
      if (!target || target.kind !== "file") {
        throw new ExtImageError(`The hard link ${e.path} names ${e.linkname ? `"${e.linkname}"` : "nothing"}, which is not a file added before it.`, "A hard link must follow the file it links to.");
      }
      if (old === target) return;
      node = target;
    } else if (e.type === "directory") {
      if (old?.kind === "directory") {
        Object.assign(old, { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime });
        return;
      }
      node = { ...directory(e.mtime), mode: e.mode & 0o7777, uid: e.uid, gid: e.gid };
    } else {
      node = { kind: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime, names: 0, ino: 0, allocated: false };
      if (e.type === "file") node.data = e.content ?? Buffer.alloc(0);
      else if (e.type === "symlink") node.data = symlinkTarget(e);
      else if (e.type === "char-device" || e.type === "block-device") Object.assign(node, deviceNumbers(e));
    }
    if (old?.kind === "directory") throw new ExtImageError(`${e.path} is a directory; a later ${e.type} entry cannot replace it.`, "Remove the directory's entry or rename the later one.");
    if (old) old.names--;
    if (node.kind !== "directory" && node.names >= MAX_LINKS) throw new ExtImageError(`${e.path}: more than ${MAX_LINKS} hard links to one file.`);
    node.names++;
    parent.children!.set(name, node);
  }

  /** The directory that holds `parts`' last name, making missing ones as implicit root-owned 0755 directories. */
  private parentDir(parts: string[], path: string): Node {
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = dir.children!.get(parts[i]);
      if (!next) {
        next = directory(undefined);
        dir.children!.set(parts[i], next);
      } else if (next.kind !== "directory") {
        // Not followed even when a symlink: a path inside the image may not depend on link targets.
        throw new ExtImageError(`${path} is inside ${parts.slice(0, i + 1).join("/")}, which is a ${next.kind}, not a directory.`);
      }
      dir = next;
    }
    return dir;
  }

  private lookup(parts: string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of parts) node = node?.children?.get(part);
    return node;
  }
}

function directory(mtime: number | undefined): Node {
  return { kind: "directory", mode: 0o755, uid: 0, gid: 0, mtime, children: new Map(), names: 0, ino: 0, allocated: false };
}

/** The path's names; refuses what could land outside the root or is not normalised. */
function splitPath(path: string, entry: string): string[] {
  if (path === "" || path === ".") return [];
  const where = path === entry ? `the path "${path}"` : `the path "${path}" of ${entry}`;
  if (path.startsWith("/")) throw new ExtImageError(`Refusing ${where}: it is absolute; entries are relative to the image's root.`);
  const parts = path.split("/");
  for (const part of parts) {
    if (part === "..") throw new ExtImageError(`Refusing ${where}: a ".." component could leave the image's root.`);
    if (part === "" || part === "." || part.includes("\0")) throw new ExtImageError(`Refusing ${where}: it is not a normalised relative path.`);
    if (Buffer.byteLength(part) > 255) throw new ExtImageError(`Refusing ${where}: a name is longer than 255 bytes.`);
  }
  return parts;
}

function checkNumbers(e: DebEntry): void {
  const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  if (!u32(e.uid) || !u32(e.gid)) throw new ExtImageError(`${e.path} has an owner (${e.uid}:${e.gid}) outside 0–4294967295.`);
  if (!Number.isInteger(e.mode) || e.mode < 0) throw new ExtImageError(`${e.path} has an invalid mode ${e.mode}.`);
  if (!Number.isSafeInteger(e.mtime) || e.mtime < 0 || e.mtime >= 2 ** 34) throw new ExtImageError(`${e.path} has an mtime ext can not store (${e.mtime}).`);
}

function symlinkTarget(e: DebEntry): Buffer {
  const target = Buffer.from(e.linkname ?? "", "utf8");
  if (!target.length || target.includes(0) || target.length >= BS) {
    throw new ExtImageError(`The symlink ${e.path} has ${e.linkname ? `an invalid target (NUL, or ${BS} bytes or more)` : "no target"}.`);
  }
  return target;
}

function deviceNumbers(e: DebEntry): { major: number; minor: number } {
  const { devmajor: major, devminor: minor } = e;
  // Linux's dev_t: 12 bits of major, 20 of minor.
  if (major === undefined || minor === undefined || !Number.isInteger(major) || !Number.isInteger(minor) || major < 0 || minor < 0 || major >= 1 << 12 || minor >= 1 << 20) {
    throw new ExtImageError(`The device ${e.path} has a missing or invalid number (${major ?? "?"}:${minor ?? "?"}).`);
  }
  return { major, minor };
}

// ---------------------------------------------------------------- layout

interface Geometry {
  blocks: number;
  groups: number;
  ipg: number;
  /** Inode table blocks per group. */
  itb: number;
  gdtBlocks: number;
}

interface GroupLayout {
  start: number;
  end: number;
  blockBitmap: number;
  dataStart: number;
}

/** mke2fs's geometry for a size, or undefined when not even one group fits. */
function geometry(sizeBytes: number, inodeRatio: number): Geometry | undefined {
  let blocks = Math.min(Math.floor(sizeBytes / BS), 0xffffffff);
  for (;;) {
    const groups = Math.ceil(blocks / BLOCKS_PER_GROUP);
    if (groups === 0) return undefined;
    const wanted = Math.ceil(Math.floor((blocks * BS) / inodeRatio) / groups);
    const maxIpg = Math.min(BLOCKS_PER_GROUP, Math.floor(0xffffffff / groups / INODES_PER_BLOCK) * INODES_PER_BLOCK);
    const ipg = Math.min(maxIpg, Math.max(INODES_PER_BLOCK, Math.ceil(wanted / INODES_PER_BLOCK) * INODES_PER_BLOCK));
    const itb = ipg / INODES_PER_BLOCK;
    const gdtBlocks = Math.ceil((groups * DESC_SIZE) / BS);
    const lastSize = blocks - (groups - 1) * BLOCKS_PER_GROUP;
    const lastOverhead = (hasSuper(groups - 1) ? 1 + gdtBlocks : 0) + 2 + itb;
    // As mke2fs: a last group with little room for data is dropped.
    if (lastSize < lastOverhead + 50) {
      if (groups === 1) return undefined;
      blocks -= lastSize;
      continue;
    }
    return { blocks, groups, ipg, itb, gdtBlocks };
  }
}

function hasSuper(g: number): boolean {
  if (g <= 1) return true;
  for (const base of [3, 5, 7]) {
    let p = base;
    while (p < g) p *= base;
    if (p === g) return true;
  }
  return false;
}

function groupLayout(geo: Geometry, g: number): GroupLayout {
  const start = g * BLOCKS_PER_GROUP;
  const blockBitmap = start + (hasSuper(g) ? 1 + geo.gdtBlocks : 0);
  return { start, end: Math.min(start + BLOCKS_PER_GROUP, geo.blocks), blockBitmap, dataStart: blockBitmap + 2 + geo.itb };
}

function dataCapacity(geo: Geometry): number {
  let n = 0;
  for (let g = 0; g < geo.groups; g++) {
    const l = groupLayout(geo, g);
    n += l.end - l.dataStart;
  }
  return n;
}

function fits(geo: Geometry, blocks: number, maxIno: number): boolean {
  return blocks <= dataCapacity(geo) && maxIno <= geo.ipg * geo.groups;
}

function defaultJournalBlocks(fsBlocks: number): number {
  if (fsBlocks < 32768) return 1024; // below 128 MiB: 4 MiB
  if (fsBlocks < 262144) return 4096; // below 1 GiB: 16 MiB
  return 8192;
}

/** Blocks a file of `n` data blocks takes, with its indirect blocks. */
function blocksWithIndirect(n: number): number {
  let rest = n - 12;
  let total = n;
  if (rest <= 0) return total;
  total += 1; // single indirect
  rest -= PTRS;
  if (rest <= 0) return total;
  const inDouble = Math.min(rest, PTRS * PTRS);
  total += 1 + Math.ceil(inDouble / PTRS);
  rest -= inDouble;
  if (rest <= 0) return total;
  return total + 1 + Math.ceil(rest / (PTRS * PTRS)) + Math.ceil(rest / PTRS);
}

function dataBlocks(node: Node, data: Buffer | undefined): number {
  if (node.kind === "symlink") return data!.length > FAST_SYMLINK_MAX ? 1 : 0;
  return data ? Math.ceil(data.length / BS) : 0;
}

/** Hands out blocks in disk order, skipping each group's metadata. */
class Allocator {
  readonly used: number[];
  private group = 0;
  private next: number;
  private end: number;

  constructor(private readonly geo: Geometry) {
    this.used = new Array<number>(geo.groups).fill(0);
    const l = groupLayout(geo, 0);
    this.next = l.dataStart;
    this.end = l.end;
  }

  /** Up to `max` consecutive blocks (at least one). */
  run(max: number): { start: number; count: number } {
    while (this.next >= this.end) {
      // Capacity was checked before allocating: running out here is a bug.
      if (++this.group >= this.geo.groups) throw new Error("ext image: block allocator ran past the last group");
      const l = groupLayout(this.geo, this.group);
      this.next = l.dataStart;
      this.end = l.end;
    }
    const start = this.next;
    const count = Math.min(max, this.end - start);
    this.next += count;
    this.used[this.group] += count;
    return { start, count };
  }
}

/**
 * Allocates `n` data blocks and the indirect blocks mapping them, queues
 * writes for the part of `data` that exists (the rest stays a hole) and
 * returns the inode's i_block.
 */
function mapBlocks(alloc: Allocator, writes: Write[], n: number, data: Buffer | undefined): number[] {
  const iBlock = new Array<number>(15).fill(0);
  let logical = 0;
  const take = (count: number, pointer: (block: number) => void): void => {
    while (count > 0) {
      const run = alloc.run(count);
      for (let i = 0; i < run.count; i++) pointer(run.start + i);
      if (data) {
        const from = logical * BS;
        const to = Math.min((logical + run.count) * BS, data.length);
        if (from < to) {
          writes.push({ pos: run.start * BS, buf: data.subarray(from, to) });
          // Padding the last partial block keeps the next file's write contiguous with this one.
          if (to % BS) writes.push({ pos: run.start * BS + to - from, buf: ZERO_BLOCK.subarray(0, BS - (to % BS)) });
        }
      }
      logical += run.count;
      count -= run.count;
    }
  };
  const indirect = (level: number, count: number): number => {
    const self = alloc.run(1).start;
    const pointers = Buffer.alloc(BS);
    writes.push({ pos: self * BS, buf: pointers });
    let i = 0;
    if (level === 1) {
      take(count, (block) => pointers.writeUInt32LE(block, 4 * i++));
    } else {
      const per = PTRS ** (level - 1);
      for (; count > 0; count -= per) pointers.writeUInt32LE(indirect(level - 1, Math.min(count, per)), 4 * i++);
    }
    return self;
  };
  let direct = 0;
  take(Math.min(n, 12), (block) => (iBlock[direct++] = block));
  let rest = n - 12;
  for (let level = 1; level <= 3 && rest > 0; level++) {
    const count = Math.min(rest, PTRS ** level);
    iBlock[11 + level] = indirect(level, count);
    rest -= count;
  }
  return iBlock;
}

const ZERO_BLOCK = Buffer.alloc(BS);

// ---------------------------------------------------------------- inodes and directories

/** Inode numbers depth first in name order (root 2, lost+found 11, the rest from 12); returns the numbered nodes but those two. */
function numberInodes(root: Node, lostFound: Node): Node[] {
  root.ino = ROOT_INO;
  lostFound.ino = LOST_FOUND_INO;
  const order: Node[] = [];
  const visit = (dir: Node): void => {
    for (const [, child] of sortedChildren(dir)) {
      if (child.ino === 0) {
        child.ino = FIRST_INO + 1 + order.length;
        order.push(child);
      }
      if (child.kind === "directory") visit(child);
    }
  };
  visit(root);
  return order;
}

const sortedCache = new WeakMap<Node, [string, Node][]>();

function sortedChildren(dir: Node): [string, Node][] {
  let sorted = sortedCache.get(dir);
  if (!sorted) {
    sorted = [...dir.children!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    sortedCache.set(dir, sorted);
  }
  return sorted;
}

/** A linear directory: ".", "..", then the children in name order, packed into whole blocks. */
function directoryBlocks(dir: Node, parent: Node, minBlocks4: boolean): Buffer {
  const entries: [Buffer, number, number][] = [
    [Buffer.from("."), dir.ino, DIRENT_TYPE.directory],
    [Buffer.from(".."), parent.ino, DIRENT_TYPE.directory],
  ];
  for (const [name, child] of sortedChildren(dir)) entries.push([Buffer.from(name, "utf8"), child.ino, DIRENT_TYPE[child.kind]]);
  let blocks = 1;
  let off = 0;
  for (const [name] of entries) {
    const len = (8 + name.length + 3) & ~3;
    if (off + len > BS) {
      blocks++;
      off = 0;
    }
    off += len;
  }
  // lost+found gets 16 KiB as mke2fs makes it, so e2fsck can reconnect files without allocating.
  const out = Buffer.alloc(Math.max(blocks, minBlocks4 ? 4 : 1) * BS);
  let at = 0;
  let last = -1;
  for (const [name, ino, type] of entries) {
    const len = (8 + name.length + 3) & ~3;
    if ((at % BS) + len > BS) {
      out.writeUInt16LE(BS - (last % BS), last + 4); // the block's last entry spans to its end
      at += BS - (at % BS);
    }
    out.writeUInt32LE(ino, at);
    out.writeUInt16LE(len, at + 4);
    out[at + 6] = name.length;
    out[at + 7] = type;
    name.copy(out, at + 8);
    last = at;
    at += len;
  }
  out.writeUInt16LE(BS - (last % BS), last + 4);
  for (let b = Math.floor(last / BS) + 1; b < out.length / BS; b++) out.writeUInt16LE(BS, b * BS + 4); // empty blocks: one unused entry
  return out;
}

interface InodeFields {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  links: number;
  /** Blocks of 4 KiB, indirect ones included. */
  blocks: number;
  iBlock?: number[];
  /** Raw i_block bytes (fast symlinks). */
  iBlockBytes?: Buffer;
}

function inodeRecord(node: Node, nBlocks: number, iBlock: number[] | undefined, imageMtime: number): Buffer {
  const mtime = node.mtime ?? imageMtime;
  const base = { mode: TYPE_BITS[node.kind] | node.mode, uid: node.uid, gid: node.gid, mtime, blocks: blocksWithIndirect(nBlocks) };
  switch (node.kind) {
    case "directory": {
      let subdirs = 0;
      for (const [, child] of node.children!) if (child.kind === "directory") subdirs++;
      if (subdirs + 2 > MAX_LINKS) throw new ExtImageError(`A directory has ${subdirs} subdirectories; ext allows ${MAX_LINKS - 2}.`);
      return inodeFields({ ...base, size: nBlocks * BS, links: 2 + subdirs, iBlock });
    }
    case "file":
      return inodeFields({ ...base, size: node.data!.length, links: node.names, iBlock });
    case "symlink":
      return inodeFields({ ...base, size: node.data!.length, links: node.names, ...(iBlock ? { iBlock } : { iBlockBytes: node.data }) });
    case "char-device":
    case "block-device": {
      // As Linux's ext4_write_inode: the old 16-bit encoding when it fits, else the new 32-bit one in i_block[1].
      const { major, minor } = node as Required<Node>;
      const device = major < 256 && minor < 256 ? [(major << 8) | minor, 0] : [0, ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0];
      return inodeFields({ ...base, size: 0, links: node.names, iBlock: device });
    }
    case "fifo":
      return inodeFields({ ...base, size: 0, links: node.names });
  }
}

function inodeFields(f: InodeFields): Buffer {
  const b = Buffer.alloc(INODE_SIZE);
  b.writeUInt16LE(f.mode, 0);
  b.writeUInt16LE(f.uid & 0xffff, 2);
  b.writeUInt32LE(f.size % 2 ** 32, 4);
  for (const [at, extra] of [
    [8, 140], // atime
    [12, 132], // ctime
    [16, 136], // mtime
    [144, 148], // crtime
  ]) {
    // Seconds past 2038 go in the extra field's two epoch bits.
    const low = f.mtime | 0;
    b.writeInt32LE(low, at);
    b.writeUInt32LE(((f.mtime - low) / 2 ** 32) & 3, extra);
  }
  b.writeUInt16LE(f.gid & 0xffff, 24);
  b.writeUInt16LE(f.links, 26);
  b.writeUInt32LE(f.blocks * (BS / 512), 28);
  if (f.iBlockBytes) f.iBlockBytes.copy(b, 40);
  else f.iBlock?.forEach((v, i) => b.writeUInt32LE(v, 40 + 4 * i));
  b.writeUInt32LE(Math.floor(f.size / 2 ** 32), 108);
  b.writeUInt16LE(f.uid >>> 16, 120);
  b.writeUInt16LE(f.gid >>> 16, 122);
  b.writeUInt16LE(EXTRA_ISIZE, 128);
  return b;
}

/** The used part of each group's inode table. */
class InodeTables {
  private readonly tables: Buffer[] = [];

  constructor(
    private readonly geo: Geometry,
    maxIno: number,
  ) {
    for (let g = 0; g * geo.ipg < maxIno; g++) {
      const used = Math.min(geo.ipg, maxIno - g * geo.ipg);
      this.tables.push(Buffer.alloc(Math.ceil(used / INODES_PER_BLOCK) * BS));
    }
  }

  put(ino: number, record: Buffer): void {
    const g = Math.floor((ino - 1) / this.geo.ipg);
    record.copy(this.tables[g], ((ino - 1) % this.geo.ipg) * INODE_SIZE);
  }

  group(g: number): Buffer | undefined {
    return this.tables[g];
  }
}

/** Bitmap blocks with the first `used` bits set and the padding past `size` set, as e2fsck expects; equal ones shared. */
class BitmapCache {
  private readonly cache = new Map<string, Buffer>();

  get(used: number, size: number): Buffer {
    const key = `${used}/${size}`;
    let b = this.cache.get(key);
    if (!b) {
      b = Buffer.alloc(BS);
      setBits(b, 0, used);
      setBits(b, size, BS * 8);
      this.cache.set(key, b);
    }
    return b;
  }
}

function setBits(b: Buffer, from: number, to: number): void {
  let i = from;
  for (; i < to && i % 8; i++) b[i >> 3] |= 1 << (i & 7);
  const wholeEnd = to - (to % 8);
  if (i < wholeEnd) {
    b.fill(0xff, i >> 3, wholeEnd >> 3);
    i = wholeEnd;
  }
  for (; i < to; i++) b[i >> 3] |= 1 << (i & 7);
}

// ---------------------------------------------------------------- superblocks

interface SuperblockValues {
  geo: Geometry;
  freeBlocks: number;
  freeInodes: number;
  mtime: number;
  uuid: Buffer;
  label: string;
  /** s_jnl_blocks: the journal inode's i_block, i_size_high, i_size. */
  journal: number[];
}

function superblock(v: SuperblockValues, groupNr: number): Buffer {
  const { geo } = v;
  const b = Buffer.alloc(1024);
  const time = v.mtime % 2 ** 32;
  const timeHi = Math.floor(v.mtime / 2 ** 32);
  b.writeUInt32LE(geo.ipg * geo.groups, 0); // s_inodes_count
  b.writeUInt32LE(geo.blocks, 4);
  b.writeUInt32LE(Math.floor((geo.blocks * RESERVED_PERCENT) / 100), 8); // s_r_blocks_count
  b.writeUInt32LE(v.freeBlocks, 12);
  b.writeUInt32LE(v.freeInodes, 16);
  b.writeUInt32LE(0, 20); // s_first_data_block: 0 with 4 KiB blocks
  b.writeUInt32LE(2, 24); // s_log_block_size: 1024 << 2
  b.writeUInt32LE(2, 28); // s_log_cluster_size
  b.writeUInt32LE(BLOCKS_PER_GROUP, 32);
  b.writeUInt32LE(BLOCKS_PER_GROUP, 36); // s_clusters_per_group
  b.writeUInt32LE(geo.ipg, 40);
  b.writeUInt32LE(time, 44); // s_mtime
  b.writeUInt32LE(time, 48); // s_wtime
  b.writeUInt16LE(0, 52); // s_mnt_count
  b.writeInt16LE(-1, 54); // s_max_mnt_count: no forced checks
  b.writeUInt16LE(0xef53, 56);
  b.writeUInt16LE(1, 58); // s_state: clean
  b.writeUInt16LE(1, 60); // s_errors: continue
  b.writeUInt32LE(time, 64); // s_lastcheck
  b.writeUInt32LE(0, 72); // s_creator_os: Linux
  b.writeUInt32LE(1, 76); // s_rev_level: dynamic
  b.writeUInt32LE(FIRST_INO, 84);
  b.writeUInt16LE(INODE_SIZE, 88);
  b.writeUInt16LE(groupNr, 90); // s_block_group_nr
  b.writeUInt32LE(0x0004 | 0x0008, 92); // compat: has_journal, ext_attr
  b.writeUInt32LE(0x0002, 96); // incompat: filetype
  b.writeUInt32LE(0x0001 | 0x0002, 100); // ro_compat: sparse_super, large_file
  v.uuid.copy(b, 104);
  b.write(v.label, 120, 16, "utf8");
  b.writeUInt32LE(JOURNAL_INO, 224);
  hashOf(v.uuid).copy(b, 236, 0, 16); // s_hash_seed (for dir_index, should it be enabled later)
  b[252] = 1; // s_def_hash_version: half_md4
  b[253] = 1; // s_jnl_backup_type: s_jnl_blocks holds the journal inode's blocks
  b.writeUInt32LE(0x0004 | 0x0008, 256); // s_default_mount_opts: user_xattr, acl (as mke2fs)
  b.writeUInt32LE(time, 264); // s_mkfs_time
  v.journal.forEach((n, i) => b.writeUInt32LE(n, 268 + 4 * i));
  b.writeUInt16LE(EXTRA_ISIZE, 348); // s_min_extra_isize
  b.writeUInt16LE(EXTRA_ISIZE, 350); // s_want_extra_isize
  b.writeUInt32LE(0x0001, 352); // s_flags: signed directory hash, as on x86
  b[0x274] = timeHi; // s_wtime_hi
  b[0x275] = timeHi; // s_mtime_hi
  b[0x276] = timeHi; // s_mkfs_time_hi
  b[0x277] = timeHi; // s_lastcheck_hi
  return b;
}

/** A clean, empty JBD2 v2 journal superblock (big-endian, as JBD2 is). */
function journalSuperblock(blocks: number, uuid: Buffer): Buffer {
  const b = Buffer.alloc(BS);
  b.writeUInt32BE(0xc03b3998, 0); // h_magic
  b.writeUInt32BE(4, 4); // h_blocktype: superblock v2
  b.writeUInt32BE(BS, 12); // s_blocksize
  b.writeUInt32BE(blocks, 16); // s_maxlen
  b.writeUInt32BE(1, 20); // s_first
  b.writeUInt32BE(1, 24); // s_sequence
  // s_start 0: nothing to replay.
  uuid.copy(b, 48);
  b.writeUInt32BE(1, 64); // s_nr_users: the file system itself
  return b;
}

function hashOf(...parts: (string | Buffer)[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

function defaultUuid(o: ExtImageOptions, nodes: Node[]): Buffer {
  const h = createHash("sha256");
  h.update(JSON.stringify({ size: o.sizeBytes, label: o.label ?? "", journal: o.journalBlocks ?? 0, ratio: o.inodeRatio ?? 0, mtime: o.mtime ?? -1 }));
  for (const n of nodes) h.update(`${n.ino} ${n.kind} ${n.data?.length ?? 0}\n`);
  const uuid = h.digest().subarray(0, 16);
  uuid[6] = (uuid[6] & 0x0f) | 0x40; // a well-formed version 4 UUID
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
  return uuid;
}

// ---------------------------------------------------------------- options, errors, output

function checkOptions(o: ExtImageOptions): { sizeBytes: number; inodeRatio: number } {
  const inodeRatio = o.inodeRatio ?? DEFAULT_INODE_RATIO;
  if (!Number.isSafeInteger(o.sizeBytes) || o.sizeBytes <= 0) throw new ExtImageError(`Invalid disk image size ${o.sizeBytes}.`);
  if (o.sizeBytes > 0xffffffff * BS) throw new ExtImageError(`A disk image of ${o.sizeBytes} bytes is too big: without the 64bit feature ext holds at most 16 TiB.`);
  if (!Number.isInteger(inodeRatio) || inodeRatio < 1024 || inodeRatio > 1 << 26) throw new ExtImageError(`Invalid inode ratio ${inodeRatio}: use 1024 to 67108864 bytes per inode.`);
  if (o.journalBlocks !== undefined && (!Number.isInteger(o.journalBlocks) || o.journalBlocks < 1024 || o.journalBlocks > 10240000)) {
    throw new ExtImageError(`Invalid journal size of ${o.journalBlocks} blocks: use 1024 to 10240000.`);
  }
  if (o.uuid && o.uuid.length !== 16) throw new ExtImageError(`A file system UUID has 16 bytes, not ${o.uuid.length}.`);
  if (o.label && Buffer.byteLength(o.label) > 16) throw new ExtImageError(`The volume label "${o.label}" is longer than 16 bytes.`);
  if (o.mtime !== undefined && (!Number.isSafeInteger(o.mtime) || o.mtime < 0 || o.mtime >= 2 ** 34)) throw new ExtImageError(`Invalid image mtime ${o.mtime}.`);
  return { sizeBytes: o.sizeBytes, inodeRatio };
}

/** The refusal for content that does not fit, with the smallest size (whole MiB) that would hold it. */
function tooSmall(options: { sizeBytes: number; inodeRatio: number }, contentBlocks: number, maxIno: number, journalBlocks: number | undefined, geo: Geometry | undefined): ExtImageError {
  const MiB = 1 << 20;
  const fitsAt = (mib: number): boolean => {
    const g = geometry(mib * MiB, options.inodeRatio);
    return !!g && fits(g, contentBlocks + blocksWithIndirect(journalBlocks ?? defaultJournalBlocks(g.blocks)), maxIno);
  };
  let lo = Math.floor(options.sizeBytes / MiB);
  let hi = Math.max(lo + 1, 1);
  while (!fitsAt(hi) && hi < 16 * MiB) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fitsAt(mid)) hi = mid;
    else lo = mid;
  }
  const has = geo ? `it holds ${dataCapacity(geo)} blocks of data and ${geo.ipg * geo.groups} inodes` : "it cannot hold even one block group";
  return new ExtImageError(
    `The disk image is too small: ${options.sizeBytes} bytes for ${contentBlocks} blocks of files and directories, a journal and ${maxIno} inodes (${has}). It needs at least ${hi} MiB.`,
    "Give the disk more space.",
  );
}

/** Creates the sparse file and writes the queued pieces in disk order, coalescing neighbours into large positioned writes. */
async function writeAll(file: string, sizeBytes: number, writes: Write[]): Promise<void> {
  writes.sort((a, b) => a.pos - b.pos);
  const handle = await fs.open(file, "w"); // truncated to 0 first, so everything not written is a hole
  try {
    await handle.truncate(sizeBytes);
    let batch: Buffer[] = [];
    let start = 0;
    let end = 0;
    const flush = async (): Promise<void> => {
      let pos = start;
      const pending = batch;
      while (pending.length) {
        const { bytesWritten } = await handle.writev(pending, pos);
        pos += bytesWritten;
        let skip = bytesWritten;
        // A short write (rare, but allowed) resumes where it stopped.
        while (pending.length && skip >= pending[0].length) skip -= pending.shift()!.length;
        if (pending.length && skip) pending[0] = pending[0].subarray(skip);
      }
      batch = [];
    };
    for (const w of writes) {
      if (w.pos < end) throw new Error(`ext image: overlapping writes at byte ${w.pos}`);
      if (w.pos !== end || batch.length >= WRITE_BATCH_BUFFERS || end - start >= WRITE_BATCH_BYTES) {
        await flush();
        start = w.pos;
      }
      batch.push(w.buf);
      end = w.pos + w.buf.length;
    }
    await flush();
  } finally {
    await handle.close();
  }
}
