import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { resolveDebianMirror } from "../../boxes/debian/apt-mirror";
import { readDeb, type DebArchive, type DebEntry } from "../../boxes/debian/deb-archive";
import { DebianRepository, type DebianPackage } from "../../boxes/debian/debian-repository";
import { aptSources, PACKAGE_ORDER_FILE, POLICY_RC_D, secondStageScript } from "../../boxes/debian-box/debian-box-files";
import { extractBootFiles, runGuestStage, stageInitramfs } from "../../boxes/debian-box/debian-guest-stage";
import { assembleRootfs, dpkgInfoName, withParents } from "../../boxes/debian-box/debian-rootfs";
import { writeExtImage } from "../../boxes/disk-image/ext-image";
import { DownloadCache } from "../../boxes/download-cache";
import { HOST_GATEWAY_IP } from "../../emulator/guest-nat";
import { HangarError } from "../../util/errors";
import type { ImageStore, StoredImage } from "./image-store";

/**
 * The built-in `debian:bookworm` and `debian:bookworm-slim` (linux/386),
 * made as Debian's official images are (debuerreotype): bookworm's minbase
 * (Priority: required, apt) from the configured mirror, configured by its
 * maintainer scripts in the emulator (debootstrap's second stage, the Debian
 * box's kernel and initramfs), with the Docker-minded apt and dpkg settings;
 * slim also leaves out documentation, manuals and locales, and keeps
 * dpkg from installing them later. The configured tree leaves the guest as a
 * tar on a second disk and becomes the image's one layer.
 */

export type DebianVariant = "bookworm" | "bookworm-slim";

/** Tags each variant answers to (Docker Hub's aliases for Debian 12). */
export const DEBIAN_IMAGE_TAGS: Readonly<Record<DebianVariant, readonly string[]>> = {
  bookworm: ["debian:bookworm", "debian:12"],
  "bookworm-slim": ["debian:bookworm-slim", "debian:12-slim"],
};

/** What Hangar adds to the packages, by revision: an image an older revision made is made again. */
const REVISION = 1;
/** Files' times: a fixed epoch, as debuerreotype clamps to its snapshot's, so the same packages give the same image ID. */
const EPOCH = 1_700_000_000;
const DISK_BYTES = 4 * 1024 ** 3;
/** Where the guest writes the tar: a sparse disk, larger than any minbase tree. */
const OUTPUT_DISK_BYTES = 1024 ** 3;
const STAGE_MEMORY_MIB = 512;
const STAGE_TIMEOUT_MS = 30 * 60_000;
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The Docker image settings Debian's images carry (debuerreotype-minimizing-config). */
const MINIMIZING_FILES: Readonly<Record<string, string>> = {
  "etc/apt/apt.conf.d/docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
  "etc/apt/apt.conf.d/docker-clean": [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    "",
  ].join("\n"),
  "etc/apt/apt.conf.d/docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
  "etc/apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
  "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": "force-unsafe-io\n",
};

/** What slim leaves out (and tells dpkg to leave out of later installs); copyright files stay. */
const SLIM_EXCLUDES = ["/usr/share/doc/*", "/usr/share/groff/*", "/usr/share/info/*", "/usr/share/linda/*", "/usr/share/lintian/overrides/*", "/usr/share/locale/*", "/usr/share/man/*"];
const SLIM_INCLUDES = ["/usr/share/doc/*/copyright"];

/** Which Debian variant a familiar name:tag names, if any. */
export function debianVariantOf(familiar: string): DebianVariant | undefined {
  for (const [variant, tags] of Object.entries(DEBIAN_IMAGE_TAGS) as Array<[DebianVariant, readonly string[]]>) if (tags.includes(familiar)) return variant;
  return undefined;
}

/** The layer's history line: the packages' suite, the variant and Hangar's revision. */
export function debianMadeBy(variant: DebianVariant, packages: number): string {
  return `debian ${variant} (linux/386) from Debian packages: minbase, ${packages} packages, configured by their maintainer scripts (Hangar revision ${REVISION})`;
}

/** Whether an image's history says this Hangar made it (else it is made again, or it is the user's own tag). */
export function isCurrentDebianImage(history: ReadonlyArray<{ created_by?: string }>, variant: DebianVariant): "current" | "older" | "other" {
  const line = history.length === 1 ? (history[0]?.created_by ?? "") : "";
  const m = new RegExp(`^debian ${variant} \\(linux/386\\) from Debian packages: minbase, (\\d+) packages, .*\\(Hangar revision (\\d+)\\)$`).exec(line);
  if (!m) return "other";
  return Number(m[2]) === REVISION ? "current" : "older";
}

export interface DebianImageOptions {
  hangarHome: string;
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?(fraction: number, message: string): void;
}

/** Builds a Debian variant into the store, tagged with all its tags. */
export async function createDebianImage(store: ImageStore, variant: DebianVariant, o: DebianImageOptions): Promise<StoredImage> {
  const progress = o.onProgress ?? (() => undefined);
  const { url: mirror } = resolveDebianMirror({ setting: o.mirror, env: o.env });
  const repo = new DebianRepository(mirror, new DownloadCache(path.join(o.hangarHome, "cache", "debian")));
  progress(0.01, "Reading the Debian package index");
  await repo.loadIndex({ signal: o.signal });
  const kernel = repo.findLatestKernel();
  const seabios = repo.require("seabios");
  const busyboxPkg = repo.require("busybox-static");
  // debootstrap's minbase: every required package and apt (usr-is-merged meets init-system-helpers' usrmerge dependency).
  const packages = repo.resolveDependencies([...repo.withPriority("required").map((p) => p.Package), "apt", "usr-is-merged"]);
  const downloads: DebianPackage[] = [kernel, seabios, busyboxPkg, ...packages];
  const total = downloads.reduce((n, p) => n + p.Size, 0);
  let received = 0;
  const files = new Map<string, string>();
  for (const pkg of downloads) {
    files.set(pkg.Package, await repo.download(pkg, (n) => progress(0.02 + (0.2 * (received + n)) / total, `Downloading ${pkg.Package} ${pkg.Version}`), o.signal));
    received += pkg.Size;
  }

  const boot = await extractBootFiles(kernel, files.get(kernel.Package)!, seabios, files.get(seabios.Package)!, o.signal);
  let busybox: Buffer | undefined;
  for await (const e of (await readDeb(files.get(busyboxPkg.Package)!, { signal: o.signal })).entries({ filter: (p) => p === "bin/busybox", signal: o.signal })) busybox = e.content;
  if (!busybox) throw new HangarError(`${busyboxPkg.Package} has no bin/busybox.`);

  progress(0.23, "Unpacking the packages");
  const debs: DebArchive[] = [];
  for (const pkg of packages) debs.push(await readDeb(files.get(pkg.Package)!, { signal: o.signal }));
  const tree = await assembleRootfs(debs, { mtime: EPOCH, signal: o.signal });
  addImageFiles(tree, debs, variant, mirror);
  withParents(tree, EPOCH);

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-debian-image-"));
  try {
    const disk = path.join(work, "disk.img");
    progress(0.27, "Writing the packages to a disk image");
    await writeExtImage(disk, tree.values(), { sizeBytes: DISK_BYTES, label: "hangar-image", mtime: EPOCH });
    tree.clear();
    await fs.writeFile(path.join(work, "vmlinuz"), boot.vmlinuz);
    await fs.writeFile(path.join(work, "initrd.img"), stageInitramfs(busybox, boot));
    await fs.writeFile(path.join(work, "bios.bin"), boot.bios);
    await fs.writeFile(path.join(work, "vgabios.bin"), boot.vgaBios);
    progress(0.3, "Configuring the packages in the emulator (debootstrap's second stage)");
    let configured = 0;
    const output = path.join(work, "output.img");
    await runGuestStage({
      bios: path.join(work, "bios.bin"),
      vgaBios: path.join(work, "vgabios.bin"),
      kernel: path.join(work, "vmlinuz"),
      initrd: path.join(work, "initrd.img"),
      memoryMiB: STAGE_MEMORY_MIB,
      stage: "image",
      disk: { file: disk, sizeBytes: DISK_BYTES },
      outputDisk: { file: output, sizeBytes: OUTPUT_DISK_BYTES },
      timeoutMs: STAGE_TIMEOUT_MS,
      onLine: (line) => progress(0.3 + 0.6 * Math.min(1, configured++ / packages.length), line),
      signal: o.signal,
    });
    await fs.rm(disk, { force: true });
    progress(0.92, "Making the image's layer");
    const layer = path.join(work, "layer.tar");
    await layerFromGuestTar(output, layer);
    await fs.rm(output, { force: true });
    return await store.create({
      config: { Env: [PATH_ENV], Cmd: ["bash"] },
      layers: [{ tarPath: layer, createdBy: debianMadeBy(variant, packages.length) }],
      tags: [...DEBIAN_IMAGE_TAGS[variant]],
      created: new Date(EPOCH * 1000),
      architecture: "386",
    });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** What the image adds to the packages: apt's sources and Docker settings, slim's exclusions, and the second stage's inputs. */
function addImageFiles(tree: Map<string, DebEntry>, debs: readonly DebArchive[], variant: DebianVariant, mirror: string): void {
  const file = (p: string, content: string, mode = 0o644): void => void tree.set(p, { path: p, type: "file", mode, uid: 0, gid: 0, mtime: EPOCH, content: Buffer.from(content) });
  const link = (p: string, target: string): void => void tree.set(p, { path: p, type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: EPOCH, linkname: target });
  // A mirror on the host's loopback is the engine's gateway to the host, as for the box.
  file("etc/apt/sources.list.d/debian.sources", aptSources(mirror, HOST_GATEWAY_IP));
  for (const [p, content] of Object.entries(MINIMIZING_FILES)) file(p, content);
  if (variant === "bookworm-slim") {
    file("etc/dpkg/dpkg.cfg.d/docker", [...SLIM_EXCLUDES.map((e) => `path-exclude ${e}`), ...SLIM_INCLUDES.map((i) => `path-include ${i}`), ""].join("\n"));
    const excluded = globsToRegExp(SLIM_EXCLUDES);
    const included = globsToRegExp(SLIM_INCLUDES);
    for (const [p, e] of tree) if (e.type !== "directory" && excluded.test(`/${p}`) && !included.test(`/${p}`)) tree.delete(p);
  }
  // The second stage's inputs (secondStageScript removes them when it is done): services never start while it runs.
  file("usr/lib/hangar/second-stage", secondStageScript({ vagrant: false, finish: IMAGE_FINISH }), 0o755);
  file("usr/sbin/policy-rc.d", POLICY_RC_D, 0o755);
  const order = debs.map((d) => dpkgInfoName(d.control)).reverse();
  order.sort((a, b) => Number(b === "base-passwd") - Number(a === "base-passwd"));
  file(PACKAGE_ORDER_FILE, order.join("\n") + "\n");
  if (!tree.has("usr/bin/awk")) link("usr/bin/awk", "mawk");
  if (!tree.has("usr/bin/sh")) link("usr/bin/sh", "dash");
}

/** What debuerreotype-fixup leaves out of an image: logs, apt's lists and caches, the build's own files. */
const IMAGE_FINISH = `rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/ldconfig/aux-cache /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /usr/lib/hangar /var/lib/hangar
: > /etc/machine-id 2>/dev/null || true
`;

/** dpkg's path-exclude globs ("*" matches across "/", as fnmatch without FNM_PATHNAME) as one expression. */
function globsToRegExp(globs: readonly string[]): RegExp {
  const one = (g: string): string =>
    g
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
  return new RegExp(`^(?:${globs.map(one).join("|")})$`);
}

/**
 * The guest's tar (on the output disk, followed by unwritten zeros) as the
 * image's layer: entries without "./", the build's scratch folders and
 * lost+found left out, times clamped to the epoch so the same packages give
 * the same layer.
 */
export async function layerFromGuestTar(disk: string, layer: string): Promise<void> {
  const length = await tarLength(disk);
  const extract = tar.extract();
  const pack = tar.pack();
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(layer));
  const reading = pipeline(createReadStream(disk, { end: length - 1 }), extract);
  for await (const entry of extract) {
    const header = { ...entry.header };
    const name = header.name.replace(/^\.\/?/, "");
    const top = name.split("/")[0];
    if (name === "" || top === "lost+found" || ((top === "proc" || top === "sys" || top === "dev" || top === "run" || top === "tmp") && name.replace(/\/$/, "") !== top)) {
      entry.resume();
      continue;
    }
    header.name = name;
    if (header.type === "link" && header.linkname) header.linkname = header.linkname.replace(/^\.\//, "");
    // A pax record's path (a long name) would be written back over the name: it gets the same treatment.
    if (header.pax) {
      const pax: Record<string, string> = { ...header.pax, path: name };
      if (header.type === "link" && header.linkname) pax.linkpath = header.linkname;
      header.pax = pax;
    }
    if (header.mtime && header.mtime.getTime() > EPOCH * 1000) header.mtime = new Date(EPOCH * 1000);
    const body = pack.entry(header);
    await pipeline(entry, body);
  }
  await reading;
  pack.finalize();
  await writing;
}

/** Where the tar written at the start of `file` ends: its headers walked to the two zero blocks that close it. */
async function tarLength(file: string): Promise<number> {
  const fd = await fs.open(file, "r");
  try {
    const size = (await fd.stat()).size;
    const block = Buffer.alloc(512);
    for (let at = 0; at + 512 <= size; ) {
      await fd.read(block, 0, 512, at);
      if (block.every((b) => b === 0)) return at + 1024;
      const field = block.subarray(124, 136);
      // Sizes are octal text, or base-256 with the top bit set (GNU, for 8 GiB and over).
      const bytes = field[0]! & 0x80 ? Number(field.subarray(1).readBigUInt64BE(3)) : parseInt(field.toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
      if (!Number.isSafeInteger(bytes) || bytes < 0) throw new HangarError(`The guest's tar has a bad size field at byte ${at}.`);
      at += 512 + Math.ceil(bytes / 512) * 512;
    }
    throw new HangarError("The guest's tar has no end: it was cut short.", "Build the image again.");
  } finally {
    await fd.close();
  }
}
