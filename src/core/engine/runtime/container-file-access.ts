import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { MachineSession } from "../../machines/machine-session";
import { shellQuote } from "../../util/shell-quote";
import { HangarError } from "../../util/errors";
import { CONTAINERS_DIR, IMAGES_DIR, pid1Script } from "./container-paths";

/** Which container's file system, and whether it runs (then its own mount namespace is used: what its process sees). */
export interface FileAccessTarget {
  containerId: string;
  imageId: string;
  running: boolean;
}

/** Docker's container path stat (the X-Docker-Container-Path-Stat header); `mode` is Go's os.FileMode. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The path is not in the container (API: 404). */
export class ContainerPathNotFoundError extends HangarError {}
/** The archive cannot go where asked (API: 400): not a directory, or it would replace a directory with a file or the reverse. */
export class ContainerPathInvalidError extends HangarError {}

/** Prints "@stat SIZE MODEHEX MTIME" (and "@link TARGET" for a symlink) or "@missing" for the path in $2. */
const STAT = [
  "B=$1/busybox; p=$2",
  'if [ ! -e "$p" ] && [ ! -L "$p" ]; then echo @missing; exit 0; fi',
  'echo "@stat $($B stat -c "%s %f %Y" -- "$p")"',
  'if [ -L "$p" ]; then echo "@link $($B readlink -f -- "$p" 2>/dev/null || $B readlink -- "$p")"; fi',
].join("\n");

/** STAT, then "@tar" and the path as a tar named by its last component ("." for "dir/."). */
/**
 * The root of a running container is archived without what its /proc and
 * /sys mounts hold (endless, and not its files: Docker archives the root
 * file system, where they are empty folders). This busybox tar has no
 * --exclude, so the names come from find (split on newlines only).
 */
const GET = [
  STAT,
  'd=$($B dirname -- "$p"); b=$($B basename -- "$p")',
  'cd "$d" || exit 5',
  "echo @tar",
  'if [ "$p" = / ]; then IFS=$($B printf "\\n_"); IFS=${IFS%_}; exec $B tar -c -f - --no-recursion -- $($B find . -path "./proc/*" -prune -o -path "./sys/*" -prune -o -print); fi',
  'exec $B tar -c -f - -- "$b"',
].join("\n");

/**
 * Extracts the tar on stdin in directory $2, after a list of its entries
 * ("N" then N lines "D path" or "F path") was checked: with $3 = 1 a
 * directory never replaces a non-directory nor the reverse (Docker's
 * noOverwriteDirNonDir; lstat, so a symlink is not a directory).
 */
const PUT = [
  "B=$1/busybox; p=$2",
  '[ -e "$p" ] || { echo @missing; exit 0; }',
  '[ -d "$p" ] || { echo @notdir; exit 0; }',
  'cd "$p" || exit 5',
  "read -r n; i=0; bad=",
  'while [ "$i" -lt "$n" ]; do IFS= read -r l; i=$((i+1)); t=${l%% *}; f=${l#* }',
  '  [ "$3" = 1 ] && [ -z "$bad" ] || continue',
  '  if [ "$t" = D ]; then if [ -L "$f" ] || { [ -e "$f" ] && [ ! -d "$f" ]; }; then bad="cannot overwrite non-directory \\"$p/$f\\" with directory \\"$f\\""; fi',
  '  elif [ -d "$f" ] && [ ! -L "$f" ]; then bad="cannot overwrite directory \\"$p/$f\\" with non-directory \\"$f\\""; fi',
  "done",
  '[ -z "$bad" ] || { echo "@conflict $bad"; exit 0; }',
  "$B tar -x -f - && echo @done",
].join("\n");

/**
 * `docker cp`'s file access, always inside the container's root: every
 * script runs chrooted there (a static busybox copied into its /dev), so
 * `..` and symlinks resolve as the container's processes see them and can
 * never reach the engine machine's files. A running container is entered
 * with nsenter (its mount namespace: what it sees); a stopped one gets its
 * overlay mounted if it is not (the writable layer in
 * /var/lib/hangar/containers/ID/upper over the image) and a private mount
 * namespace with a tmpfs /dev for the helper.
 */
export class ContainerFileAccess {
  constructor(private readonly session: MachineSession) {}

  async stat(target: FileAccessTarget, containerPath: string): Promise<PathStat | undefined> {
    const res = await this.session.run(() => rootScript(target, STAT, [absolute(containerPath)]), { retryRefused: true });
    const text = res.stdout;
    if (res.code !== 0) throw new HangarError(`Reading ${containerPath} in container ${target.containerId.slice(0, 12)} failed: ${res.stderr.trim() || text.trim() || `exit status ${res.code}`}`);
    return parseStat(text, containerPath);
  }

  /**
   * The path's stat and a tar of it; undefined when it does not exist. The
   * tar is handed over only once the engine machine's channel has closed:
   * a client that stops reading at the tar's end and goes on with its next
   * request would otherwise open a channel while this one is still ending,
   * which dropbear answers by closing the new channel (its command runs
   * anyway).
   */
  async get(target: FileAccessTarget, containerPath: string): Promise<{ stat: PathStat; tar: Buffer } | undefined> {
    const ch = await this.session.exec(() => rootScript(target, GET, [absolute(containerPath)]), { retryRefused: true });
    const out: Buffer[] = [];
    let stderr = "";
    ch.on("data", (d: Buffer) => out.push(d));
    ch.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number>((resolve) => {
      let c = -1;
      ch.on("exit", (n: number | null) => (c = n ?? -1));
      ch.on("close", () => resolve(c));
    });
    const all = Buffer.concat(out);
    const text = all.subarray(0, Math.min(all.length, 8192)).toString("latin1");
    if (text.startsWith("@missing")) return undefined;
    const at = text.indexOf("@tar\n");
    const where = `${containerPath} in container ${target.containerId.slice(0, 12)}`;
    if (at < 0 || code !== 0) throw new HangarError(`Archiving ${where} failed: ${stderr.trim() || `exit status ${code}`}`);
    return { stat: parseStat(text.slice(0, at), containerPath)!, tar: all.subarray(at + 5) };
  }

  /**
   * Extracts `tar` (already checked: relative names, no `..`) in the
   * directory `containerPath`; `entries` lists its paths for the
   * noOverwriteDirNonDir check. Nothing changes when a check fails.
   */
  async put(target: FileAccessTarget, containerPath: string, tar: Buffer, entries: Array<{ dir: boolean; name: string }>, noOverwriteDirNonDir: boolean): Promise<void> {
    const dest = absolute(containerPath);
    const list = `${entries.length}\n${entries.map((e) => `${e.dir ? "D" : "F"} ${e.name}\n`).join("")}`;
    const ch = await this.session.exec(rootScript(target, PUT, [dest, noOverwriteDirNonDir ? "1" : "0"]));
    let out = "";
    let err = "";
    ch.on("data", (d: Buffer) => (out += d.toString()));
    ch.stderr.on("data", (d: Buffer) => (err += d.toString()));
    ch.on("error", () => undefined);
    const code = await new Promise<number>((resolve) => {
      let c = -1;
      ch.on("exit", (n: number | null) => (c = n ?? -1));
      ch.on("close", () => resolve(c));
      ch.end(Buffer.concat([Buffer.from(list), tar]));
    });
    const where = `container ${target.containerId.slice(0, 12)}`;
    if (out.startsWith("@missing")) throw new ContainerPathNotFoundError(`Could not find the file ${containerPath} in ${where}`);
    if (out.startsWith("@notdir")) throw new ContainerPathInvalidError(`extraction point is not a directory: ${containerPath} in ${where}`);
    const conflict = /^@conflict (.*)$/m.exec(out);
    if (conflict) throw new ContainerPathInvalidError(conflict[1]);
    if (code !== 0 || !out.includes("@done")) throw new HangarError(`Copying into ${containerPath} in ${where} failed: ${err.trim() || `exit status ${code}`}`);
  }
}

/** The engine-machine script that runs `inner` (sh; $1 the helper's folder, then `args`) chrooted in the container's root. */
function rootScript(target: FileAccessTarget, inner: string, args: string[]): string {
  const c = `${CONTAINERS_DIR}/${target.containerId}`;
  const quoted = args.map(shellQuote).join(" ");
  if (target.running) {
    const helper = `/dev/.hangar-cp-${randomBytes(6).toString("hex")}`;
    // In the container's mount namespace the root is the tools folder with the container's root at /root
    // (container-confinement.ts): the helper is copied and the script chrooted there without a path of the engine
    // machine's in between, so a symlink the container made (even over its /dev) leads only inside its own root.
    const enter = 'h=$1; shift; mkdir /root$h && cp /bin/busybox /root$h/busybox || exit 4; exec chroot /root $h/busybox sh -c "$@"';
    return [
      pid1Script(target.containerId),
      `[ -n "$p" ] || { echo "Container ${target.containerId} is not running" >&2; exit 3; }`,
      `nsenter -t $p -m /bin/busybox sh -c ${shellQuote(enter)} - ${helper} ${shellQuote(inner)} - ${helper} ${quoted}`,
      "s=$?",
      `nsenter -t $p -m /bin/busybox rm -rf /root${helper}`,
      "exit $s",
    ].join("\n");
  }
  const lower = `${IMAGES_DIR}/${target.imageId.replace(/^sha256:/, "")}/rootfs`;
  // (as the run script mounts it, so a later start uses the same mount)
  // (its /dev must be a folder of its own: a symlink there would take the tmpfs and the helper into the engine machine's folders)
  const isolated =
    'r=$1; s=$2; shift 2; [ -e "$r/dev" ] || [ -L "$r/dev" ] || mkdir "$r/dev"; if [ -L "$r/dev" ] || [ ! -d "$r/dev" ]; then echo "the container\'s /dev is not a folder" >&2; exit 4; fi; mount -t tmpfs -o size=4m tmpfs "$r/dev" && mkdir "$r/dev/.hangar" && cp /bin/busybox "$r/dev/.hangar/busybox" && exec chroot "$r" /dev/.hangar/busybox sh -c "$s" - /dev/.hangar "$@"';
  return [
    "set -e",
    `mkdir -p ${c}/upper ${c}/work ${c}/rootfs`,
    `grep -q " ${c}/rootfs " /proc/mounts || mount -t overlay overlay -o lowerdir=${lower},upperdir=${c}/upper,workdir=${c}/work ${c}/rootfs`,
    `exec unshare -m sh -c ${shellQuote(isolated)} - ${c}/rootfs ${shellQuote(inner)} ${quoted}`,
  ].join("\n");
}

/** Absolute, normalized, keeping a trailing "/." or "/" (Docker's cp gives them meaning). */
function absolute(p: string): string {
  const norm = path.posix.normalize(`/${p}`);
  if (/\/\.$/.test(p) && norm !== "/") return `${norm.replace(/\/$/, "")}/.`;
  if (p.endsWith("/") && norm !== "/") return `${norm.replace(/\/$/, "")}/`;
  return norm;
}

function parseStat(text: string, containerPath: string): PathStat | undefined {
  if (/^@missing/m.test(text)) return undefined;
  const m = /^@stat (\d+) ([0-9a-f]+) (\d+)$/m.exec(text);
  if (!m) throw new HangarError(`Could not read the file ${containerPath}'s details: ${text.trim()}`);
  const link = /^@link (.*)$/m.exec(text);
  const abs = absolute(containerPath);
  return {
    name: abs === "/" ? "/" : path.posix.basename(abs.endsWith("/.") ? "." : abs),
    size: Number(m[1]),
    mode: goFileMode(parseInt(m[2], 16)),
    mtime: new Date(Number(m[3]) * 1000).toISOString(),
    linkTarget: link ? link[1] : "",
  };
}

/** A Unix st_mode as Go's os.FileMode (the docker CLI reads IsDir and ModeSymlink from it). */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  if (mode & 0o4000) m |= 1 << 23;
  if (mode & 0o2000) m |= 1 << 22;
  if (mode & 0o1000) m |= 1 << 20;
  const type = mode & 0o170000;
  if (type === 0o040000) m |= 2 ** 31;
  else if (type === 0o120000) m |= 1 << 27;
  else if (type === 0o060000) m |= 1 << 26;
  else if (type === 0o020000) m |= (1 << 26) | (1 << 21);
  else if (type === 0o010000) m |= 1 << 25;
  else if (type === 0o140000) m |= 1 << 24;
  return m >>> 0;
}
