import * as fs from "node:fs";
import * as path from "node:path";
import { ERRNO, NinePError } from "./linux-errno";

/**
 * A host folder reached from a share root one component at a time, never
 * through a host symlink, and held so that later lookups in it cannot be
 * redirected. Callers name objects in it with `entry(name)` and use only
 * syscalls that do not follow a final symlink there (lstat, open with
 * O_NOFOLLOW, unlink, rmdir, mkdir, symlink, rename, link, readlink,
 * lutimes) or `chmodNoFollow`.
 *
 * On Linux each folder is held open (O_PATH|O_DIRECTORY|O_NOFOLLOW) and named
 * by its /proc/self/fd/N magic link. The kernel resolves that link to the held
 * folder itself, not by its path, so `${ref}/name` behaves as
 * openat(fd, "name"): a parent folder swapped for a symlink after it was
 * opened is never looked at again, and O_NOFOLLOW on every step refuses a
 * symlink (ENOTDIR) — there is no check-then-use window to race.
 *
 * Without /proc (macOS, Windows) each step is checked with lstat and the
 * folder is named by its path. The guest alone cannot race that (its requests
 * are answered one at a time), but a concurrent host-side swap of a parent
 * folder between the check and the use could.
 */
export class ConfinedDir {
  private constructor(
    /** A path naming this folder itself; `entry` appends one component. */
    readonly ref: string,
    private fd: number | undefined,
  ) {}

  /** The share root, a real path (resolved when the share was set). */
  static openRoot(root: string): ConfinedDir {
    if (PINNED) return new ConfinedDir(...pinDir(root));
    if (!fs.lstatSync(root).isDirectory()) throw new NinePError(ERRNO.ENOTDIR);
    return new ConfinedDir(root, undefined);
  }

  /** The folder `name` inside this one; a symlink or a file there is ENOTDIR. */
  child(name: string): ConfinedDir {
    const entry = this.entry(name);
    if (PINNED) return new ConfinedDir(...pinDir(entry));
    if (!fs.lstatSync(entry).isDirectory()) throw new NinePError(ERRNO.ENOTDIR);
    return new ConfinedDir(entry, undefined);
  }

  entry(name: string): string {
    if (!name || name === "." || name === ".." || name.includes("/") || (path.sep === "\\" && name.includes("\\"))) throw new NinePError(ERRNO.EINVAL);
    return PINNED ? `${this.ref}/${name}` : path.join(this.ref, name);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Opens `root` and then each of `names` as folders, runs `fn` on the last, closes them all. */
export function withConfinedDir<T>(root: string, names: readonly string[], fn: (dir: ConfinedDir) => T): T {
  let dir = ConfinedDir.openRoot(root);
  try {
    for (const name of names) {
      const next = dir.child(name);
      dir.close();
      dir = next;
    }
    return fn(dir);
  } finally {
    dir.close();
  }
}

/**
 * chmod of the object at `entry` itself: `mode(stats)` gives the new mode,
 * or undefined to leave it (a symlink has no mode of its own on Linux).
 * On Linux the object is held with O_PATH|O_NOFOLLOW, so the mode checked and
 * the object changed are the same inode even if the name is swapped meanwhile.
 */
export function chmodNoFollow(entry: string, mode: (st: fs.Stats) => number | undefined): void {
  if (!PINNED) {
    const m = mode(fs.lstatSync(entry));
    if (m !== undefined) fs.chmodSync(entry, m);
    return;
  }
  const fd = fs.openSync(entry, O_PATH | O_NOFOLLOW);
  try {
    const m = mode(fs.fstatSync(fd));
    if (m !== undefined) fs.chmodSync(`/proc/self/fd/${fd}`, m);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether folders are held open and named through /proc/self/fd (race-free) rather than checked by path. */
export const PINNED = process.platform === "linux" && fs.existsSync("/proc/self/fd");

// Node does not export O_PATH; this is its value on the Linux architectures Node runs on (x86, arm, arm64, riscv).
const O_PATH = 0o10000000;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

function pinDir(p: string): [string, number] {
  // O_PATH: lookups need search permission only, as a path walk does.
  const fd = fs.openSync(p, O_PATH | fs.constants.O_DIRECTORY | O_NOFOLLOW);
  return [`/proc/self/fd/${fd}`, fd];
}
