import * as fs from "node:fs";
import { chmodNoFollow, ConfinedDir, PINNED, withConfinedDir } from "./confined-dir";
import { ERRNO, linuxErrno, NinePError } from "./linux-errno";
import { HEADER_BYTES, QID_DIR, QID_FILE, QID_SYMLINK, type Qid, RLERROR, T, WireReader, WireWriter } from "./ninep-wire";

/**
 * A 9P2000.L file server, answering v86's virtio-9p device
 * (`filesystem.handle9p`), that shows host folders to the guest: the guest
 * mounts the device once (at /mnt/host9p, by the box's init) and sees one
 * directory per share; the host binds a share where a synced folder belongs.
 *
 * Every request is answered synchronously with node:fs, so no request is in
 * flight when the emulator's state is saved, and a restored guest's handles
 * (fids) stay valid: the fid table is exported with the state and imported on
 * restore, and files are reopened lazily (resolved again, as below).
 *
 * The guest never reaches outside a share (the trust boundary for host
 * files): names are single path components, ".." stops at the share's root,
 * and every operation resolves its host object from the share root one
 * component at a time without following a host symlink (ConfinedDir); a
 * symlink is only ever an object in itself (readlink, lstat, unlink, rename).
 * The guest resolves symlinks itself, inside its own namespace. Sizes change
 * through a file handle, never by path; nothing the guest creates or chmods
 * on the host is setuid or setgid.
 */
/**
 * The size the guest's watch helper (emulator/guest-watch-relay.ts) truncates
 * a file to, to raise IN_MODIFY there: 8 TiB - 1, the largest a 32-bit guest
 * kernel allows, which no real file is cut to. Answered with success and
 * nothing done, so it can never race an editor writing the host file.
 */
export const NOTIFY_SIZE = 2 ** 43 - 1;

export interface Share {
  name: string;
  hostPath: string;
  /** Who owns everything in the share as the guest sees it (host uids mean nothing there); root when unset. Vagrant's synced folders belong to its SSH user. */
  owner?: { uid: number; gid: number };
}

/** A fid as the export/import of a saved state sees it. */
export interface FidRecord {
  fid: number;
  /** Components below the virtual root: [] is the root, [share, ...names] a host path. */
  path: string[];
  /** Linux open flags when the guest had it open. */
  openFlags?: number;
}

interface Fid {
  path: string[];
  openFlags?: number;
  fd?: number;
  listing?: DirEntry[];
}

interface DirEntry {
  qid: Qid;
  type: number;
  name: string;
}

const MAX_MSIZE = 512 * 1024;
const ROOT_QID: Qid = { type: QID_DIR, version: 0, path: 0xfffffffffffffff0n };
const V9FS_MAGIC = 0x01021997;
const AT_REMOVEDIR = 0x200;
const GETATTR_BASIC = 0x7ffn;
// Linux open(2) flags, as the 9P2000.L client sends them.
const L_ACCMODE = 3,
  L_CREAT = 0o100,
  L_EXCL = 0o200,
  L_TRUNC = 0o1000,
  L_APPEND = 0o2000;
// Modes a guest may give host objects: no setuid/setgid, sticky only on folders.
const FILE_MODES = 0o777,
  DIR_MODES = 0o1777;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0,
  O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;
// setattr valid bits.
const SET_MODE = 0x1,
  SET_SIZE = 0x8,
  SET_ATIME = 0x10,
  SET_MTIME = 0x20,
  SET_ATIME_SET = 0x80,
  SET_MTIME_SET = 0x100;

export class HostShareServer {
  /**
   * Called after each change the guest makes to a share ("s0", "dir/file"):
   * writes, creates, renames, removals, and attribute changes that change
   * something. The worker's watch relay leaves these out of what it replays.
   */
  onGuestChange?: (share: string, rel: string) => void;

  private readonly shares = new Map<string, string>();
  private readonly owners = new Map<string, { uid: number; gid: number }>();
  private readonly fids = new Map<number, Fid>();
  private msize = MAX_MSIZE;

  constructor(shares: Share[] = []) {
    this.setShares(shares);
  }

  /** Replaces the set of shares; a share whose host folder is missing is refused. */
  setShares(shares: Share[]): void {
    this.shares.clear();
    this.owners.clear();
    for (const s of shares) {
      if (!/^[\w.-]+$/.test(s.name) || s.name === "." || s.name === "..") throw new Error(`Invalid share name '${s.name}'.`);
      this.shares.set(s.name, fs.realpathSync(s.hostPath));
      if (s.owner) this.owners.set(s.name, s.owner);
    }
  }

  exportFids(): FidRecord[] {
    return [...this.fids].map(([fid, f]) => ({ fid, path: f.path, ...(f.openFlags !== undefined ? { openFlags: f.openFlags } : {}) }));
  }

  importFids(records: FidRecord[]): void {
    this.closeAll();
    for (const r of records) this.fids.set(r.fid, { path: r.path, openFlags: r.openFlags });
  }

  closeAll(): void {
    for (const f of this.fids.values()) this.closeFd(f);
    this.fids.clear();
  }

  /** One request in, one reply out (Rlerror on failure). */
  handle(request: Uint8Array): Uint8Array {
    const r = new WireReader(request);
    r.u32();
    const type = r.u8();
    const tag = r.u16();
    try {
      return this.dispatch(type, tag, r);
    } catch (err) {
      return WireWriter.message(RLERROR, tag).u32(linuxErrno(err)).finish();
    }
  }

  private dispatch(type: number, tag: number, r: WireReader): Uint8Array {
    const reply = (initial?: number): WireWriter => WireWriter.message(type + 1, tag, initial);
    switch (type) {
      case T.version: {
        const msize = r.u32();
        const version = r.str();
        this.closeAll();
        this.msize = Math.min(msize, MAX_MSIZE);
        return reply()
          .u32(this.msize)
          .str(version.startsWith("9P2000.L") ? "9P2000.L" : "unknown")
          .finish();
      }
      case T.attach: {
        const fid = r.u32();
        r.u32();
        r.str();
        const aname = r.str();
        const p = aname && aname !== "/" ? [aname.replace(/^\//, "")] : [];
        const qid = this.qidOf(p);
        this.fids.set(fid, { path: p });
        return reply().qid(qid).finish();
      }
      case T.auth:
        throw new NinePError(ERRNO.EOPNOTSUPP);
      case T.flush:
        return reply().finish();
      case T.walk:
        return this.walk(r, reply());
      case T.clunk: {
        const fid = r.u32();
        const f = this.fids.get(fid);
        if (f) this.closeFd(f);
        this.fids.delete(fid);
        return reply().finish();
      }
      case T.remove: {
        const fid = r.u32();
        const f = this.fid(fid);
        this.closeFd(f);
        this.fids.delete(fid);
        this.atEntry(f.path, (entry) => (fs.lstatSync(entry).isDirectory() ? fs.rmdirSync(entry) : fs.unlinkSync(entry)));
        this.changed(f.path);
        return reply().finish();
      }
      case T.getattr: {
        const f = this.fid(r.u32());
        return this.getattr(f.path, reply(160));
      }
      case T.setattr:
        return this.setattr(this.fid(r.u32()), r, reply());
      case T.statfs: {
        const s = this.statfs(this.fid(r.u32()).path);
        return reply()
          .u32(V9FS_MAGIC)
          .u32(Number(s?.bsize ?? 4096n))
          .u64(s?.blocks ?? 0n)
          .u64(s?.bfree ?? 0n)
          .u64(s?.bavail ?? 0n)
          .u64(s?.files ?? 0n)
          .u64(s?.ffree ?? 0n)
          .u64(0n)
          .u32(255)
          .finish();
      }
      case T.lopen: {
        const f = this.fid(r.u32());
        const flags = r.u32();
        const qid = this.qidOf(f.path);
        this.closeFd(f);
        if (qid.type !== QID_DIR) f.fd = this.openAt(f.path, hostOpenFlags(flags));
        f.openFlags = flags & ~(L_CREAT | L_EXCL | L_TRUNC);
        f.listing = undefined;
        return reply().qid(qid).u32(0).finish();
      }
      case T.lcreate: {
        const f = this.fid(r.u32());
        const name = component(r.str());
        const flags = r.u32();
        const mode = r.u32();
        r.u32();
        const fd = this.inDir(f.path, (dir) => fs.openSync(dir.entry(name), hostOpenFlags(flags | L_CREAT), mode & FILE_MODES));
        this.closeFd(f);
        f.path = [...f.path, name];
        f.fd = fd;
        f.openFlags = flags & ~(L_CREAT | L_EXCL | L_TRUNC);
        this.changed(f.path);
        return reply()
          .qid(qidOfStat(fs.fstatSync(fd, { bigint: true })))
          .u32(0)
          .finish();
      }
      case T.read:
        return this.read(r, type, tag);
      case T.write: {
        const f = this.fid(r.u32());
        const offset = r.u64();
        const count = r.u32();
        const data = r.bytesOf(count);
        const written = fs.writeSync(this.fd(f), data, 0, count, Number(offset));
        this.changed(f.path);
        return reply().u32(written).finish();
      }
      case T.readdir:
        return this.readdir(r, type, tag);
      case T.fsync: {
        const f = this.fid(r.u32());
        if (f.openFlags !== undefined && this.qidOf(f.path).type !== QID_DIR) fs.fsyncSync(this.fd(f));
        return reply().finish();
      }
      case T.mkdir: {
        const dir = this.fid(r.u32());
        const name = component(r.str());
        const mode = r.u32();
        const qid = this.inDir(dir.path, (d) => {
          fs.mkdirSync(d.entry(name), mode & DIR_MODES);
          return qidOfStat(fs.lstatSync(d.entry(name), { bigint: true }));
        });
        this.changed([...dir.path, name]);
        return reply().qid(qid).finish();
      }
      case T.symlink: {
        const dir = this.fid(r.u32());
        const name = component(r.str());
        const target = r.str();
        // The target is only text to the host: it is stored, never resolved here.
        const qid = this.inDir(dir.path, (d) => {
          fs.symlinkSync(target, d.entry(name));
          return qidOfStat(fs.lstatSync(d.entry(name), { bigint: true }));
        });
        this.changed([...dir.path, name]);
        return reply().qid(qid).finish();
      }
      case T.mknod: {
        const dir = this.fid(r.u32());
        const name = component(r.str());
        const mode = r.u32();
        // Only regular files: a host folder holds no guest device nodes or FIFOs.
        if ((mode & 0o170000) !== 0o100000 && (mode & 0o170000) !== 0) throw new NinePError(ERRNO.EOPNOTSUPP);
        const c = fs.constants;
        const qid = this.inDir(dir.path, (d) => {
          const fd = fs.openSync(d.entry(name), c.O_WRONLY | c.O_CREAT | c.O_EXCL | O_NOFOLLOW, mode & FILE_MODES);
          try {
            return qidOfStat(fs.fstatSync(fd, { bigint: true }));
          } finally {
            fs.closeSync(fd);
          }
        });
        this.changed([...dir.path, name]);
        return reply().qid(qid).finish();
      }
      case T.link: {
        const dir = this.fid(r.u32());
        const target = this.fid(r.u32());
        const name = component(r.str());
        this.sameShare(target.path, dir.path);
        this.atEntry(target.path, (source) => {
          // Linux's link(2) links a symlink itself; elsewhere it may follow it, so refuse there.
          if (!PINNED && fs.lstatSync(source).isSymbolicLink()) throw new NinePError(ERRNO.EPERM);
          this.inDir(dir.path, (d) => fs.linkSync(source, d.entry(name)));
        });
        this.changed([...dir.path, name]);
        return reply().finish();
      }
      case T.readlink: {
        const f = this.fid(r.u32());
        if (f.path.length < 2) throw new NinePError(ERRNO.EINVAL);
        return reply()
          .str(this.atEntry(f.path, (entry) => fs.readlinkSync(entry)))
          .finish();
      }
      case T.rename: {
        const f = this.fid(r.u32());
        const dir = this.fid(r.u32());
        const name = component(r.str());
        this.renamePath(f.path, [...dir.path, name]);
        return reply().finish();
      }
      case T.renameat: {
        const oldDir = this.fid(r.u32());
        const oldName = component(r.str());
        const newDir = this.fid(r.u32());
        const newName = component(r.str());
        this.renamePath([...oldDir.path, oldName], [...newDir.path, newName]);
        return reply().finish();
      }
      case T.unlinkat: {
        const dir = this.fid(r.u32());
        const name = component(r.str());
        const flags = r.u32();
        this.atEntry([...dir.path, name], (entry) => (flags & AT_REMOVEDIR ? fs.rmdirSync(entry) : fs.unlinkSync(entry)));
        this.changed([...dir.path, name]);
        return reply().finish();
      }
      case T.lock:
        return reply().u8(0).finish();
      case T.getlock: {
        this.fid(r.u32());
        r.u8();
        const start = r.u64();
        const length = r.u64();
        const procId = r.u32();
        const client = r.str();
        return reply().u8(2 /* F_UNLCK: nothing holds it */).u64(start).u64(length).u32(procId).str(client).finish();
      }
      case T.xattrwalk:
      case T.xattrcreate:
        throw new NinePError(ERRNO.EOPNOTSUPP);
      default:
        throw new NinePError(ERRNO.EOPNOTSUPP, `unsupported 9P message ${type}`);
    }
  }

  private walk(r: WireReader, w: WireWriter): Uint8Array {
    const from = this.fid(r.u32());
    const newFid = r.u32();
    const count = r.u16();
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(r.str());
    if (names.some((name) => name.includes("/") || name === "")) throw new NinePError(ERRNO.EINVAL);
    // A walk starts from a folder: from a symlink (or a file) fid it is ENOTDIR, as openat(2) with such a dirfd is.
    if (names.length && from.path.length && this.qidOf(from.path).type !== QID_DIR) throw new NinePError(ERRNO.ENOTDIR);
    let p = [...from.path];
    const qids: Qid[] = [];
    for (const name of names) {
      // Do not walk through a symlink on the host: the guest must resolve it itself.
      if (qids.length && qids[qids.length - 1].type === QID_SYMLINK) break;
      // ".." is lexical: every component of p was a folder, never a link, when it was walked.
      const next = name === ".." ? p.slice(0, Math.max(0, p.length - 1)) : name === "." ? p : [...p, name];
      let qid: Qid;
      try {
        qid = this.qidOf(next);
      } catch (err) {
        if (!qids.length) throw err;
        break;
      }
      qids.push(qid);
      p = next;
    }
    if (qids.length === names.length) {
      if (this.fids.get(newFid) !== from) this.closeFd(this.fids.get(newFid));
      this.fids.set(newFid, { path: p });
    }
    w.u16(qids.length);
    for (const q of qids) w.qid(q);
    return w.finish();
  }

  private read(r: WireReader, type: number, tag: number): Uint8Array {
    const f = this.fid(r.u32());
    const offset = r.u64();
    const count = Math.min(r.u32(), this.msize - HEADER_BYTES - 4);
    const buf = Buffer.alloc(count);
    const n = fs.readSync(this.fd(f), buf, 0, count, Number(offset));
    return WireWriter.message(type + 1, tag, n + 16)
      .u32(n)
      .raw(buf.subarray(0, n))
      .finish();
  }

  private readdir(r: WireReader, type: number, tag: number): Uint8Array {
    const f = this.fid(r.u32());
    const offset = Number(r.u64());
    const count = Math.min(r.u32(), this.msize - HEADER_BYTES - 4);
    if (offset === 0 || !f.listing) f.listing = this.list(f.path);
    const body = new WireWriter(Math.min(count, 64 * 1024));
    for (let i = offset; i < f.listing.length; i++) {
      const e = f.listing[i];
      const entryBytes = 13 + 8 + 1 + 2 + Buffer.byteLength(e.name);
      if (body.size + entryBytes > count) break;
      body
        .qid(e.qid)
        .u64(i + 1)
        .u8(e.type)
        .str(e.name);
    }
    const data = body.finish();
    return WireWriter.message(type + 1, tag, data.length + 16)
      .u32(data.length)
      .raw(data)
      .finish();
  }

  private list(p: string[]): DirEntry[] {
    const dot: DirEntry[] = [
      { qid: this.qidOf(p), type: 4, name: "." },
      { qid: this.qidOf(p.slice(0, -1)), type: 4, name: ".." },
    ];
    if (!p.length) return [...dot, ...[...this.shares.keys()].map((name) => ({ qid: this.qidOf([name]), type: 4, name }))];
    const out = this.inDir(p, (dir) => {
      const entries: DirEntry[] = [];
      for (const name of fs.readdirSync(dir.ref).sort()) {
        try {
          const qid = qidOfStat(fs.lstatSync(dir.entry(name), { bigint: true }));
          entries.push({ qid, type: qid.type === QID_DIR ? 4 : qid.type === QID_SYMLINK ? 10 : 8, name });
        } catch {
          // Gone between readdir and lstat (or a name this host cannot address): leave it out.
        }
      }
      return entries;
    });
    return [...dot, ...out];
  }

  private getattr(p: string[], w: WireWriter): Uint8Array {
    if (!p.length) {
      w.u64(GETATTR_BASIC)
        .qid(ROOT_QID)
        .u32(0o40555)
        .u32(0)
        .u32(0)
        .u64(2 + this.shares.size)
        .u64(0)
        .u64(0)
        .u64(4096)
        .u64(0);
      for (let i = 0; i < 8; i++) w.u64(0);
      return w.u64(0).u64(0).finish();
    }
    const st = this.lstat(p);
    w.u64(GETATTR_BASIC).qid(qidOfStat(st));
    const owner = this.owners.get(p[0]) ?? { uid: 0, gid: 0 };
    w.u32(Number(st.mode))
      .u32(owner.uid)
      .u32(owner.gid)
      .u64(st.nlink)
      .u64(0)
      .u64(st.size)
      .u64(4096)
      .u64((st.size + 511n) / 512n);
    for (const ns of [st.atimeNs, st.mtimeNs, st.ctimeNs, st.birthtimeNs]) w.u64(ns / 1_000_000_000n).u64(ns % 1_000_000_000n);
    return w.u64(0).u64(0).finish();
  }

  private setattr(f: Fid, r: WireReader, w: WireWriter): Uint8Array {
    const valid = r.u32();
    const mode = r.u32();
    r.u32();
    r.u32();
    const size = r.u64();
    const atime = Number(r.u64()) + Number(r.u64()) / 1e9;
    const mtime = Number(r.u64()) + Number(r.u64()) / 1e9;
    // A share root's own attributes are the host's.
    if (f.path.length < 2) throw new NinePError(ERRNO.EPERM);
    let changed = false;
    if (valid & SET_MODE) {
      // Never setuid/setgid on the host; a symlink has no mode of its own.
      const masked = (st: fs.Stats): number | undefined => {
        if (st.isSymbolicLink()) return undefined;
        const m = mode & (st.isDirectory() ? DIR_MODES : FILE_MODES);
        changed ||= m !== (st.mode & 0o7777);
        return m;
      };
      this.atEntry(f.path, (entry) => chmodNoFollow(entry, masked));
    }
    // truncate(2) to the size a file has already changes nothing, its times included (the kernel sends "now" with it).
    const sameSize = (valid & SET_SIZE) !== 0 && !this.truncate(f, Number(size));
    changed ||= (valid & SET_SIZE) !== 0 && !sameSize;
    if ((valid & (SET_ATIME | SET_MTIME)) !== 0 && !(sameSize && !(valid & (SET_ATIME_SET | SET_MTIME_SET)))) {
      changed = true;
      this.atEntry(f.path, (entry) => {
        const st = fs.lstatSync(entry);
        const now = Date.now() / 1000;
        const a = valid & SET_ATIME ? (valid & SET_ATIME_SET ? atime : now) : st.atimeMs / 1000;
        const m = valid & SET_MTIME ? (valid & SET_MTIME_SET ? mtime : now) : st.mtimeMs / 1000;
        fs.lutimesSync(entry, a, m);
      });
    }
    // Ownership changes are accepted and not applied: host files keep their host owner.
    if (changed) this.changed(f.path);
    return w.finish();
  }

  /**
   * Size changes go through a handle on the object itself, never a path the
   * host would resolve. A truncate to the size the file has already is left
   * out (POSIX lets times stay then), and NOTIFY_SIZE is no truncate at all.
   * Returns whether the size changed.
   */
  private truncate(f: Fid, size: number): boolean {
    // The watch relay's helper asks for IN_MODIFY in the guest this way: nothing to do on the host.
    if (size === NOTIFY_SIZE) return false;
    const cut = (fd: number): boolean => {
      if (fs.fstatSync(fd).size === size) return false;
      fs.ftruncateSync(fd, size);
      return true;
    };
    // The guest's own handle when it has the file open for writing: the file it opened, whatever its name is now.
    if (f.openFlags !== undefined && (f.openFlags & L_ACCMODE) !== 0) return cut(this.fd(f));
    // truncate(2) by name: open what is there now, never through a link (O_NONBLOCK: a host FIFO must not hang us).
    const fd = this.openAt(f.path, fs.constants.O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      return cut(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private changed(p: string[]): void {
    if (p.length >= 2 && this.onGuestChange) this.onGuestChange(p[0]!, p.slice(1).join("/"));
  }

  private renamePath(from: string[], to: string[]): void {
    this.sameShare(from, to);
    this.atEntry(from, (source) => this.atEntry(to, (target) => fs.renameSync(source, target)));
    this.changed(from);
    this.changed(to);
    // The guest keeps fids of renamed files and of everything below a renamed directory.
    for (const f of this.fids.values()) {
      if (f.path.length >= from.length && from.every((c, i) => f.path[i] === c)) f.path = [...to, ...f.path.slice(from.length)];
    }
  }

  /** Links and renames stay inside one share (the guest's bind mounts refuse the rest with EXDEV anyway). */
  private sameShare(a: string[], b: string[]): void {
    if (a.length < 1 || b.length < 1) throw new NinePError(ERRNO.EPERM);
    if (a[0] !== b[0]) throw new NinePError(ERRNO.EXDEV);
  }

  private statfs(p: string[]): fs.BigIntStatsFs | undefined {
    if (!p.length) {
      const first = this.shares.keys().next();
      return first.done ? undefined : this.statfs([first.value]);
    }
    try {
      return this.inDir(p, (dir) => fs.statfsSync(dir.ref, { bigint: true }));
    } catch (err) {
      // Not a folder: the file system of the folder that holds it.
      if (linuxErrno(err) !== ERRNO.ENOTDIR || p.length < 2) throw err;
      return this.inDir(p.slice(0, -1), (dir) => fs.statfsSync(dir.ref, { bigint: true }));
    }
  }

  private fid(n: number): Fid {
    const f = this.fids.get(n);
    if (!f) throw new NinePError(ERRNO.EBADF);
    return f;
  }

  /**
   * The fid's open host file, reopened after a restore (without create/truncate)
   * by the same confined resolution as a fresh open: a name swapped for a
   * symlink since the state was saved is refused, never followed.
   */
  private fd(f: Fid): number {
    if (f.fd !== undefined) return f.fd;
    if (f.openFlags === undefined) throw new NinePError(ERRNO.EBADF);
    if (this.qidOf(f.path).type === QID_DIR) throw new NinePError(ERRNO.EISDIR);
    f.fd = this.openAt(f.path, hostOpenFlags(f.openFlags));
    return f.fd;
  }

  private closeFd(f: Fid | undefined): void {
    if (f?.fd === undefined) return;
    try {
      fs.closeSync(f.fd);
    } catch {
      // Already closed: nothing to release.
    }
    f.fd = undefined;
  }

  /** The host folder of a share path's first component; the virtual root is no host folder. */
  private root(p: string[]): string {
    if (!p.length) throw new NinePError(ERRNO.EPERM);
    const root = this.shares.get(p[0]);
    if (!root) throw new NinePError(ERRNO.ENOENT);
    return root;
  }

  /** Runs `fn` on the folder at `p` (a share root when p has one component), reached without following links. */
  private inDir<T>(p: string[], fn: (dir: ConfinedDir) => T): T {
    return withConfinedDir(this.root(p), p.slice(1), fn);
  }

  /**
   * Runs `fn` on the host name of the object at `p`, inside its share (a
   * share root itself is not the guest's to change: EPERM). `fn` must not
   * follow a symlink in the final component.
   */
  private atEntry<T>(p: string[], fn: (entry: string) => T): T {
    if (p.length < 2) throw new NinePError(ERRNO.EPERM);
    const name = p[p.length - 1];
    return this.inDir(p.slice(0, -1), (dir) => fn(dir.entry(name)));
  }

  /** Opens the object at `p` itself (`flags` carry O_NOFOLLOW). */
  private openAt(p: string[], flags: number, mode?: number): number {
    return this.atEntry(p, (entry) => fs.openSync(entry, flags | O_NOFOLLOW, mode));
  }

  private lstat(p: string[]): fs.BigIntStats {
    if (p.length === 1) return fs.lstatSync(this.root(p), { bigint: true });
    return this.atEntry(p, (entry) => fs.lstatSync(entry, { bigint: true }));
  }

  private qidOf(p: string[]): Qid {
    if (!p.length) return ROOT_QID;
    return qidOfStat(this.lstat(p));
  }
}

function qidOfStat(st: fs.BigIntStats): Qid {
  const type = st.isDirectory() ? QID_DIR : st.isSymbolicLink() ? QID_SYMLINK : QID_FILE;
  // Unique per host file: inode, with the device folded into the top bits.
  return { type, version: Number(st.mtimeNs & 0xffffffffn), path: BigInt.asUintN(64, st.ino ^ ((st.dev & 0xffffn) << 48n)) };
}

function component(name: string): string {
  if (!name || name === "." || name === ".." || name.includes("/")) throw new NinePError(ERRNO.EINVAL);
  return name;
}

function hostOpenFlags(linux: number): number {
  const c = fs.constants;
  const access = linux & L_ACCMODE;
  // Never follow a symlink on the host: the guest resolves its own symlinks.
  let flags = (access === 1 ? c.O_WRONLY : access === 2 ? c.O_RDWR : c.O_RDONLY) | O_NOFOLLOW;
  if (linux & L_CREAT) flags |= c.O_CREAT;
  if (linux & L_EXCL) flags |= c.O_EXCL;
  if (linux & L_TRUNC) flags |= c.O_TRUNC;
  if (linux & L_APPEND) flags |= c.O_APPEND;
  return flags;
}
