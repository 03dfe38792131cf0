import { createWriteStream, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { resolveDebianMirror } from "../../boxes/debian/apt-mirror";
import { readDeb } from "../../boxes/debian/deb-archive";
import { DebianRepository } from "../../boxes/debian/debian-repository";
import { DownloadCache } from "../../boxes/download-cache";
import { bundledFile } from "../../util/bundled-file";
import { HangarError } from "../../util/errors";
import { ImageNotFoundError, InvalidReferenceError } from "./image-errors";
import { familiarName, parseReference } from "./image-reference";
import { createDebianImage, DEBIAN_IMAGE_TAGS, debianVariantOf, isCurrentDebianImage, type DebianVariant } from "./debian-images";
import type { ImageStore, StoredImage } from "./image-store";

/**
 * Images the engine makes itself instead of pulling (the embedded engine
 * has no registry access): today `busybox:latest`, from Debian's
 * busybox-static i386 package, the same mirror and download cache the
 * default box uses. "scratch" is not an image (the builder handles
 * `FROM scratch`); any other name is not built in.
 */

export interface BuiltinImageOptions {
  hangarHome: string;
  /** hangar.debianMirror; else HANGAR_DEBIAN_MIRROR; else apt's configuration. */
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
}

export const BUSYBOX_TAG = "busybox:latest";

/**
 * Applets linked to /bin/busybox when the binary's own list cannot be read
 * (busyboxApplets): the common ones Debian's busybox-static builds in.
 */
export const BUSYBOX_APPLETS: readonly string[] = [
  "sh",
  "ash",
  "cat",
  "ls",
  "echo",
  "true",
  "false",
  "sleep",
  "env",
  "id",
  "ps",
  "top",
  "mkdir",
  "rm",
  "cp",
  "mv",
  "ln",
  "chmod",
  "chown",
  "wget",
  "nc",
  "httpd",
  "vi",
  "grep",
  "sed",
  "awk",
  "head",
  "tail",
  "wc",
  "sort",
  "uniq",
  "find",
  "xargs",
  "tar",
  "gzip",
  "hostname",
  "ip",
  "ping",
  "mount",
  "umount",
  "kill",
  "printf",
  "test",
  "[",
  "[[",
  "date",
  "uname",
  "whoami",
  "free",
  "df",
  "du",
  "touch",
  "which",
  "seq",
  "yes",
  "dd",
  "tee",
  "tr",
  "cut",
  "basename",
  "dirname",
  "readlink",
  "realpath",
  "stat",
  "sync",
  "clear",
  "more",
  "less",
];

/**
 * The applets a busybox binary has, from the table of names it carries (one
 * NUL-separated, sorted run starting "[", "[["): `busybox --list` cannot run
 * on the host. The fixed list when no such table is found.
 */
export function busyboxApplets(binary: Buffer): string[] {
  const at = binary.indexOf("\0[\0[[\0");
  const names: string[] = [];
  if (at >= 0) {
    let start = at + 1;
    for (;;) {
      const end = binary.indexOf(0, start);
      if (end < 0 || end - start > 40) break;
      const name = binary.toString("latin1", start, end);
      if (!/^[[a-z0-9][\w.[-]*$/.test(name) || (names.length && name <= names[names.length - 1]!)) break;
      names.push(name);
      start = end + 1;
    }
  }
  return names.length >= 50 ? names : [...BUSYBOX_APPLETS];
}

/**
 * adduser, addgroup, deluser and delgroup are one script (busybox-adduser.sh,
 * beside this file; copied into dist/images by esbuild.mjs), linked under each
 * name: Debian's busybox-static leaves those applets out, Docker's busybox image has them.
 */
const ACCOUNT_TOOLS = ["adduser", "addgroup", "deluser", "delgroup"];
/** The layer's history line, by which an older making of the image is known and made again (the first had just the package, the second only root and nobody). */
const madeBy = (version: string): string => `busybox-static ${version} from Debian, all its applets, adduser/addgroup, Docker's busybox accounts`;

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The accounts Docker's busybox image has (buildroot's skeleton): root is in wheel, so `id` shows groups=0(root),10(wheel) there too. */
const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "bin:x:2:2:bin:/bin:/bin/false",
  "sys:x:3:3:sys:/dev:/bin/false",
  "sync:x:4:100:sync:/bin:/bin/sync",
  "mail:x:8:8:mail:/var/spool/mail:/bin/false",
  "www-data:x:33:33:www-data:/var/www:/bin/false",
  "operator:x:37:37:Operator:/var:/bin/false",
  "nobody:x:65534:65534:nobody:/home:/bin/false",
  "",
].join("\n");
const GROUP = [
  ...["root:0", "daemon:1", "bin:2", "sys:3", "adm:4", "tty:5", "disk:6", "lp:7", "mail:8", "kmem:9"].map((g) => g.replace(":", ":x:") + ":"),
  "wheel:x:10:root",
  ...[
    "cdrom:11",
    "dialout:18",
    "floppy:19",
    "video:28",
    "audio:29",
    "tape:32",
    "www-data:33",
    "operator:37",
    "utmp:43",
    "plugdev:46",
    "staff:50",
    "lock:54",
    "netdev:82",
    "users:100",
    "nobody:65534",
  ].map((g) => g.replace(":", ":x:") + ":"),
  "",
].join("\n");

/** Which built-in image a reference names, if any. */
export function builtinImageName(ref: string): "busybox" | DebianVariant | undefined {
  try {
    const parsed = parseReference(ref);
    if (parsed.digest !== undefined) return undefined;
    if (familiarName(parsed.name) === "busybox" && (parsed.tag === undefined || parsed.tag === "latest")) return "busybox";
    if (parsed.tag !== undefined) return debianVariantOf(`${familiarName(parsed.name)}:${parsed.tag}`);
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
  }
  return undefined;
}

/**
 * The built-in image `name` names, made (once) if the store lacks it;
 * undefined when `name` is not a built-in image. Making busybox reads the
 * Debian index and downloads busybox-static (about 1 MB) into
 * `${hangarHome}/cache/debian`, where later builds find it.
 */
export async function ensureBuiltinImage(store: ImageStore, name: string, o: BuiltinImageOptions): Promise<StoredImage | undefined> {
  const builtin = builtinImageName(name);
  if (builtin === undefined) return undefined;
  if (builtin !== "busybox") return ensureDebianImage(store, builtin, o);
  try {
    const stored = await store.image(BUSYBOX_TAG);
    // One this Hangar made is kept; one an older Hangar made (another line of the package in its history) is made again;
    // one the user tagged busybox:latest themselves is theirs.
    const history = stored.config.history ?? [];
    const line = history.length === 1 ? (history[0]?.created_by ?? "") : "";
    const made = /^busybox-static (\S+) from Debian\b/.exec(line);
    if (!made || line === madeBy(made[1])) return stored;
  } catch (err) {
    if (!(err instanceof ImageNotFoundError)) throw err;
  }
  const progress = o.onProgress ?? (() => undefined);
  const { url } = resolveDebianMirror({ setting: o.mirror, env: o.env });
  const repo = new DebianRepository(url, new DownloadCache(path.join(o.hangarHome, "cache", "debian")));
  progress(0.05, "Reading the Debian package index");
  await repo.loadIndex({ signal: o.signal });
  const pkg = repo.require("busybox-static");
  progress(0.5, `Downloading ${pkg.Package} ${pkg.Version}`);
  const file = await repo.download(pkg, undefined, o.signal);
  let binary: { content: Buffer; mtime: number } | undefined;
  for await (const entry of (await readDeb(file, { signal: o.signal })).entries({ filter: (p) => p === "bin/busybox", signal: o.signal })) {
    if (entry.content) binary = { content: entry.content, mtime: entry.mtime };
  }
  if (!binary) throw new HangarError(`${pkg.Package} ${pkg.Version} has no bin/busybox.`, "The mirror's package is not what Hangar expects; try another mirror.");
  progress(0.8, "Making the busybox image");
  return createBusyboxImage(store, { binary: binary.content, version: pkg.Version, mtime: binary.mtime });
}

/** Debian images being made, by store and variant: a second request waits for the first instead of making it again. */
const making = new WeakMap<ImageStore, Map<DebianVariant, Promise<StoredImage>>>();

async function ensureDebianImage(store: ImageStore, variant: DebianVariant, o: BuiltinImageOptions): Promise<StoredImage> {
  try {
    const stored = await store.image(DEBIAN_IMAGE_TAGS[variant][0]!);
    // One this Hangar made is kept; one the user tagged debian:bookworm themselves (a pull, a load) is theirs.
    if (isCurrentDebianImage(stored.config.history ?? [], variant) !== "older") return stored;
  } catch (err) {
    if (!(err instanceof ImageNotFoundError)) throw err;
  }
  const pending = making.get(store) ?? new Map<DebianVariant, Promise<StoredImage>>();
  making.set(store, pending);
  let made = pending.get(variant);
  if (!made) {
    made = createDebianImage(store, variant, o).finally(() => pending.delete(variant));
    pending.set(variant, made);
  }
  return made;
}

/**
 * Stores the busybox image for a given busybox binary. Deterministic: every
 * time and mtime is the binary's (the package build's), entries are
 * sorted, so one package version gives one image ID everywhere.
 */
export async function createBusyboxImage(store: ImageStore, input: { binary: Buffer; version: string; mtime: number }): Promise<StoredImage> {
  const when = new Date(input.mtime * 1000);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-busybox-"));
  try {
    const layer = path.join(dir, "layer.tar");
    await writeBusyboxLayer(layer, input.binary, when);
    return await store.create({
      config: { Env: [PATH_ENV], Cmd: ["sh"] },
      layers: [{ tarPath: layer, createdBy: madeBy(input.version) }],
      tags: [BUSYBOX_TAG],
      created: when,
      architecture: "386",
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function writeBusyboxLayer(file: string, binary: Buffer, mtime: Date): Promise<void> {
  const applets = [...new Set(busyboxApplets(binary))].filter((a) => a !== "busybox");
  const tools = ACCOUNT_TOOLS.filter((t) => !applets.includes(t));
  type Item = { name: string; header: Omit<tar.Header, "name" | "size" | "mtime" | "uid" | "gid" | "uname" | "gname" | "devmajor" | "devminor" | "linkname"> & { linkname?: string }; body?: Buffer };
  const dir = (name: string, mode = 0o755): Item => ({ name: `${name}/`, header: { type: "directory", mode } });
  const items: Item[] = [
    ...["bin", "dev", "etc", "home", "proc", "sys", "usr", "var"].map((d) => dir(d)),
    dir("root", 0o700),
    dir("tmp", 0o1777),
    { name: "bin/busybox", header: { type: "file", mode: 0o755 }, body: binary },
    ...applets.map((a): Item => ({ name: `bin/${a}`, header: { type: "symlink", mode: 0o777, linkname: "busybox" } })),
    { name: "bin/.hangar-accounts", header: { type: "file", mode: 0o755 }, body: await fs.readFile(bundledFile(__dirname, "images", "busybox-adduser.sh")) },
    ...tools.map((a): Item => ({ name: `bin/${a}`, header: { type: "symlink", mode: 0o777, linkname: ".hangar-accounts" } })),
    { name: "etc/passwd", header: { type: "file", mode: 0o644 }, body: Buffer.from(PASSWD) },
    { name: "etc/group", header: { type: "file", mode: 0o644 }, body: Buffer.from(GROUP) },
  ];
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const pack = tar.pack();
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(file));
  for (const item of items) {
    const header = { ...item.header, name: item.name, mtime, uid: 0, gid: 0, uname: "root", gname: "root" };
    if (item.body) pack.entry(header, item.body);
    else pack.entry(header); // folders and symlinks have no body: the entry completes by itself
  }
  pack.finalize();
  await writing;
}
