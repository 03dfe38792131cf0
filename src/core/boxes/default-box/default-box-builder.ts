import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { generateEd25519KeyPair } from "../../util/ssh-keys";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { publishBox } from "../box-store";
import type { EmbeddedBoxMetadata } from "../embedded-box";
import { resolveDebianMirror } from "../debian/apt-mirror";
import { readDeb, type DebEntry } from "../debian/deb-archive";
import { DebianRepository, type DebianPackage } from "../debian/debian-repository";
import { DownloadCache } from "../download-cache";
import { CpioWriter } from "../cpio-writer";
import { GROUP, GUEST_MODULES, initScript, KERNEL_CMDLINE, PASSWD, READY_MARKER, SHELLS, SU_PATH, SUDO_SCRIPT, UDHCPC_SCRIPT } from "./guest-files";
import { BOX_RUNTIME_PATH, CONTAINER_RUNTIME } from "../../engine/runtime/container-runtime";
import { WATCH_HELPER, WATCH_HELPER_FILE } from "../../emulator/guest-watch-relay";

export const DEFAULT_BOX_NAME = "hangar/debian-busybox";
/**
 * What the builder adds beyond the packages' versions; it is the box
 * version's minor number (1: the vagrant user, sudo, SFTP; 2: bridge and
 * veth modules for container networks; 3: a tmpfs root and capsh, for
 * confined containers; 4: the container runtime script; 5: the watch relay's
 * helper, so `up` need not type it on the console; 6: disk and ext4
 * drivers, for the engine machine's disk; 7: trixie's dropbear, whose
 * session channels no longer close before their command starts), so a box from an older builder
 * is told apart from a current one.
 */
export const DEFAULT_BOX_REVISION = 7;
/** The Debian release dropbear (and its libraries) come from (see buildDefaultBox). */
const DROPBEAR_SUITE = "trixie";
/** Where Debian's dropbear runs its SFTP subsystem from (its SFTPSERVER_PATH). */
const SFTP_SERVER_PATH = "usr/lib/sftp-server";
/** Where Debian's libcap2-bin installs capsh. */
const CAPSH_PATH = "sbin/capsh";

export interface BuildOptions {
  hangarHome: string;
  /** hangar.debianMirror; else HANGAR_DEBIAN_MIRROR; else apt's configuration. */
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?(fraction: number, message: string): void;
  signal?: AbortSignal;
}

export interface BuiltBox {
  dir: string;
  version: string;
  initrdSha256: string;
  packages: string[];
}

/**
 * Builds the default box from Debian bookworm i386 packages: the newest
 * 686-unsigned kernel (+ the virtio/9p/net/overlay modules), busybox-static,
 * dropbear-bin with its libraries, and SeaBIOS. Every download is checked
 * against the repository index; .debs are read in TypeScript (no dpkg).
 */
export async function buildDefaultBox(o: BuildOptions): Promise<BuiltBox> {
  const progress = o.onProgress ?? (() => undefined);
  const { url: mirror } = resolveDebianMirror({ setting: o.mirror, env: o.env });
  const cache = new DownloadCache(path.join(o.hangarHome, "cache", "debian"));
  const repo = new DebianRepository(mirror, cache);
  progress(0.02, "Reading the Debian package index");
  await repo.loadIndex({ signal: o.signal });
  const kernel = repo.findLatestKernel();
  const busybox = repo.require("busybox-static");
  const seabios = repo.require("seabios");
  // dropbear from the next release (trixie's, with the libc it needs): bookworm's 2022.83 can close a session channel it
  // looks at before the channel's exec request arrives, run the command anyway and then end the whole connection on an
  // assertion as the command writes (dropbear issue #321, fixed in 2024.86): the engine machine's SSH connection
  // dropped under busy health checks. The rest of the box keeps bookworm's packages.
  const next = new DebianRepository(mirror, cache, { suite: DROPBEAR_SUITE });
  await next.loadIndex({ signal: o.signal });
  const dropbear = next.resolveDependencies(["dropbear-bin"]);
  // Only its one program: the package's dependency on openssh-client is for the man pages' sake, and sftp-server needs libc alone.
  const sftp = repo.require("openssh-sftp-server");
  // capsh (and libcap2): the engine machine drops a container's capabilities with it (container-confinement.ts).
  const capsh = repo.resolveDependencies(["libcap2-bin"], { exclude: (name) => dropbear.some((p) => p.Package === name) });
  const all: DebianPackage[] = [kernel, busybox, seabios, ...dropbear, sftp, ...capsh];
  const total = all.reduce((n, p) => n + p.Size, 0);
  let done = 0;
  const files = new Map<string, string>();
  for (const pkg of all) {
    const file = await repo.download(pkg, (received) => progress(0.05 + (0.6 * (done + received)) / total, `Downloading ${pkg.Package} ${pkg.Version}`), o.signal);
    done += pkg.Size;
    files.set(pkg.Package, file);
  }
  const entriesOf = async (pkg: DebianPackage, want: (p: string) => boolean): Promise<DebEntry[]> => {
    const out: DebEntry[] = [];
    for await (const e of (await readDeb(files.get(pkg.Package)!, { signal: o.signal })).entries({ filter: (p) => want(p), signal: o.signal })) out.push(e);
    return out;
  };

  progress(0.7, `Unpacking ${kernel.Package}`);
  const kernelVersion = kernel.kernelRelease;
  const kernelEntries = await entriesOf(kernel, (p) => p === `boot/vmlinuz-${kernelVersion}` || isWantedModule(p));
  const vmlinuz = kernelEntries.find((e) => e.path === `boot/vmlinuz-${kernelVersion}`);
  if (!vmlinuz?.content) throw new HangarError(`${kernel.Package} has no boot/vmlinuz-${kernelVersion}.`);
  const modulePaths = GUEST_MODULES.map((m) => {
    const e = kernelEntries.find((x) => x.path.startsWith(`lib/modules/${kernelVersion}/`) && x.path.endsWith(`/${m}.ko`));
    if (!e) throw new HangarError(`${kernel.Package} has no ${m}.ko module, which the default box needs.`);
    return e;
  });

  progress(0.8, "Unpacking busybox, dropbear, capsh and libraries");
  const tree = new Map<string, DebEntry>();
  const addAll = (entries: DebEntry[]): void => entries.forEach((e) => tree.set(e.path, e));
  const [busyboxBinary] = await entriesOf(busybox, (p) => p === "bin/busybox");
  if (!busyboxBinary?.content) throw new HangarError(`${busybox.Package} has no bin/busybox.`);
  addAll([busyboxBinary, { ...busyboxBinary, path: SU_PATH, mode: 0o4755 }]);
  for (const pkg of dropbear) addAll(await entriesOf(pkg, (p) => p === "usr/sbin/dropbear" || isLibrary(p)));
  for (const pkg of capsh) addAll(await entriesOf(pkg, (p) => p === CAPSH_PATH || isLibrary(p)));
  if (!tree.has(CAPSH_PATH)) throw new HangarError(`libcap2-bin has no ${CAPSH_PATH}.`);
  const [sftpServer] = await entriesOf(sftp, (p) => p === "usr/lib/openssh/sftp-server");
  if (!sftpServer?.content) throw new HangarError(`${sftp.Package} has no usr/lib/openssh/sftp-server.`);
  addAll([{ ...sftpServer, path: SFTP_SERVER_PATH }]);
  addAll(modulePaths);
  const bios = await entriesOf(seabios, (p) => p === "usr/share/seabios/bios.bin" || p === "usr/share/seabios/vgabios-stdvga.bin");
  const biosFile = bios.find((e) => e.path.endsWith("/bios.bin"));
  const vgaFile = bios.find((e) => e.path.endsWith("/vgabios-stdvga.bin"));
  if (!biosFile?.content || !vgaFile?.content) throw new HangarError(`${seabios.Package} lacks bios.bin or vgabios-stdvga.bin.`);

  progress(0.88, "Writing the initramfs");
  const initrd = initramfs(
    tree,
    kernelVersion,
    modulePaths.map((m) => m.path.slice(`lib/modules/${kernelVersion}/`.length)),
  );
  const initrdSha256 = createHash("sha256").update(initrd).digest("hex");

  // The box's bootstrap key pair (Vagrant's "insecure key", but per box).
  const pair = generateEd25519KeyPair("hangar box bootstrap key");
  const version = builtBoxVersion(DEFAULT_BOX_REVISION, kernelVersion);
  const metadata = builtBoxMetadata(pair.public, { built: { kernel: `${kernel.Package} ${kernel.Version}`, packages: all.map((p) => `${p.Package} ${p.Version}`), initrdSha256 } });

  progress(0.95, "Adding the box to the box store");
  const finalDir = await publishBox(o.hangarHome, DEFAULT_BOX_NAME, version, async (tmp) => {
    await fs.writeFile(path.join(tmp, "vmlinuz"), vmlinuz.content!);
    await fs.writeFile(path.join(tmp, "initrd.img"), initrd);
    await fs.writeFile(path.join(tmp, "bios.bin"), biosFile.content!);
    await fs.writeFile(path.join(tmp, "vgabios-stdvga.bin"), vgaFile.content!);
    await writeFileAtomic(path.join(tmp, "bootstrap_key"), pair.private, { mode: 0o600 });
    await writeFileAtomic(path.join(tmp, "metadata.json"), JSON.stringify(metadata, null, 2) + "\n");
  });
  progress(1, `Built ${DEFAULT_BOX_NAME} ${version}`);
  return { dir: finalDir, version, initrdSha256, packages: all.map((p) => `${p.Package} ${p.Version}`) };
}

/** A built box's version: 1.<builder revision>.<kernel ABI>, so a newer kernel or builder makes a newer box. */
export function builtBoxVersion(revision: number, kernelRelease: string): string {
  return `1.${revision}.${/-(\d+)-686$/.exec(kernelRelease)?.[1] ?? "0"}`;
}

/** The metadata.json of a box Hangar builds: its files' names, the boot contract (guest-files.ts), and `fields` of its own. */
export function builtBoxMetadata<T extends Partial<EmbeddedBoxMetadata> & { built: object }>(bootstrapPublicKey: string, fields: T): EmbeddedBoxMetadata & T {
  return {
    provider: "embedded",
    format: 1,
    kernel: "vmlinuz",
    initrd: "initrd.img",
    bios: "bios.bin",
    vgaBios: "vgabios-stdvga.bin",
    cmdline: `${KERNEL_CMDLINE} hangar.key=${Buffer.from(bootstrapPublicKey).toString("base64")}`,
    bootstrapKey: "bootstrap_key",
    readyMarker: READY_MARKER,
    sshUser: "vagrant",
    sshUserIds: { uid: 1000, gid: 1000 },
    ...fields,
  };
}

function isWantedModule(p: string): boolean {
  const m = /^lib\/modules\/[^/]+\/kernel\/.*\/([^/]+)\.ko$/.exec(p);
  return !!m && (GUEST_MODULES as readonly string[]).includes(m[1]);
}

/** Shared libraries and the dynamic loader; not gconv, docs or other data. */
function isLibrary(p: string): boolean {
  return /^(usr\/)?lib\/(i386-linux-gnu\/)?[^/]+\.so(\.[\d.]+)?$/.test(p) || p === "lib/ld-linux.so.2" || /^(usr\/)?lib\/i386-linux-gnu\/ld-linux\.so\.2$/.test(p);
}

/** The initramfs: the packages' files plus /init and its helpers, in a fixed order (same inputs → same bytes). */
function initramfs(tree: Map<string, DebEntry>, kernelVersion: string, moduleFiles: string[]): Buffer {
  const cpio = new CpioWriter();
  const dirs = new Set<string>([
    "bin",
    "sbin",
    "usr",
    "usr/bin",
    "usr/sbin",
    "lib",
    "etc",
    "etc/hangar",
    "etc/dropbear",
    "proc",
    "sys",
    "dev",
    "tmp",
    "run",
    "root",
    "home",
    "home/vagrant",
    "var",
    "var/log",
    "mnt",
    "usr/lib/hangar",
    `lib/modules/${kernelVersion}`,
  ]);
  for (const p of tree.keys()) for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort()) cpio.addDirectory(d, d === "home/vagrant" ? { mode: 0o755, uid: 1000, gid: 1000 } : { mode: d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755 });
  cpio.addCharDevice("dev/console", 5, 1, { mode: 0o600 });
  for (const [p, e] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (e.type === "file" && e.content) cpio.addFile(p, e.content, { mode: e.mode });
    else if (e.type === "symlink" && e.linkname) cpio.addSymlink(p, e.linkname);
  }
  // Programs name their loader /lib/ld-linux.so.2; a merged-/usr libc (trixie's) ships it under usr/lib only.
  if (!tree.has("lib/ld-linux.so.2") && tree.has("usr/lib/ld-linux.so.2")) cpio.addSymlink("lib/ld-linux.so.2", "../usr/lib/ld-linux.so.2");
  cpio.addFile("init", initScript(moduleFiles), { mode: 0o755 });
  cpio.addFile("etc/hangar/udhcpc.script", UDHCPC_SCRIPT, { mode: 0o755 });
  cpio.addFile("etc/passwd", PASSWD, { mode: 0o644 });
  cpio.addFile("etc/group", GROUP, { mode: 0o644 });
  cpio.addFile("etc/shells", SHELLS, { mode: 0o644 });
  cpio.addFile("usr/bin/sudo", SUDO_SCRIPT, { mode: 0o755 });
  // The engine machine's side of starting a container (container-runtime.sh): shipped with the box it runs on.
  cpio.addFile(BOX_RUNTIME_PATH.slice(1), CONTAINER_RUNTIME, { mode: 0o755 });
  // The synced folders' watch helper (guest-watch-relay.ts): `up` checks its sha256 and types it only when it differs.
  cpio.addFile(WATCH_HELPER_FILE.slice(1), WATCH_HELPER, { mode: 0o755 });
  return cpio.toBuffer();
}
