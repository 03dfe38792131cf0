import { promises as fs } from "node:fs";
import * as path from "node:path";
import { utils as sshUtils } from "ssh2";
import { HOST_GATEWAY_IP } from "../../emulator/guest-nat";
import { WATCH_HELPER, WATCH_HELPER_FILE } from "../../emulator/guest-watch-relay";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { generateEd25519KeyPair } from "../../util/ssh-keys";
import { publishBox } from "../box-store";
import { resolveDebianMirror } from "../debian/apt-mirror";
import { readDeb, type DebArchive, type DebEntry } from "../debian/deb-archive";
import { DebianRepository, type DebianPackage } from "../debian/debian-repository";
import { writeExtImage } from "../disk-image/ext-image";
import { DownloadCache } from "../download-cache";
import { builtBoxMetadata, builtBoxVersion, type BuildOptions, type BuiltBox } from "../default-box/default-box-builder";
import { UDHCPC_SCRIPT } from "../default-box/guest-files";
import { extractBootFiles, runGuestStage, stageInitramfs } from "./debian-guest-stage";
import { assembleRootfs, dpkgInfoName, withParents } from "./debian-rootfs";
import { aptSources, BOOT_SCRIPT, FSTAB, HOSTS, INITTAB, PACKAGE_ORDER_FILE, POLICY_RC_D, RUNLEVEL_SCRIPT, secondStageScript, SHUTDOWN_SCRIPT, SSHD_CONFIG } from "./debian-box-files";

export const DEBIAN_BOX_NAME = "hangar/debian-bookworm";
/** What the builder adds beyond the packages (the version's minor number): 1, the first; 2, no RSA host key (machines make their own keys). */
export const DEBIAN_BOX_REVISION = 2;
/** The box's disk: what `config.vm.disk` sizes default to (sparse: it takes what is written). */
export const DEBIAN_BOX_DISK_BYTES = 8 * 1024 ** 3;
/** Memory for the second stage and the box's default. */
export const DEBIAN_BOX_MEMORY_MIB = 512;
/** Debian's minbase (Priority: required, apt) and what a Vagrant box needs. */
const EXTRA_PACKAGES = ["apt", "usr-is-merged", "openssh-server", "sudo", "ca-certificates", "iproute2", "busybox-static", "e2fsprogs", "netbase"];
/** The fixed time of the files the builder writes itself: same packages, same image. */
const EPOCH = 1_700_000_000;
/** How long the second stage may take in the emulator (it configures ~120 packages). */
const SECOND_STAGE_TIMEOUT_MS = 40 * 60_000;

/**
 * Builds hangar/debian-bookworm: Debian bookworm i386 (minbase with apt,
 * OpenSSH, sudo, ca-certificates, iproute2) on an ext4 disk image written
 * by the host from the packages, then finished in the emulator as
 * debootstrap's second stage does (preinst scripts, `dpkg --configure -a`).
 */
export async function buildDebianBox(o: BuildOptions): Promise<BuiltBox> {
  const progress = o.onProgress ?? (() => undefined);
  const { url: mirror } = resolveDebianMirror({ setting: o.mirror, env: o.env });
  const cache = new DownloadCache(path.join(o.hangarHome, "cache", "debian"));
  const repo = new DebianRepository(mirror, cache);
  progress(0.01, "Reading the Debian package index");
  await repo.loadIndex({ signal: o.signal });
  const kernel = repo.findLatestKernel();
  const seabios = repo.require("seabios");
  const packages = repo.resolveDependencies([...repo.withPriority("required").map((p) => p.Package), ...EXTRA_PACKAGES]);
  const downloads: DebianPackage[] = [kernel, seabios, ...packages];
  const total = downloads.reduce((n, p) => n + p.Size, 0);
  let received = 0;
  const files = new Map<string, string>();
  for (const pkg of downloads) {
    files.set(pkg.Package, await repo.download(pkg, (n) => progress(0.02 + (0.28 * (received + n)) / total, `Downloading ${pkg.Package} ${pkg.Version}`), o.signal));
    received += pkg.Size;
  }

  progress(0.3, `Unpacking ${kernel.Package}`);
  const boot = await extractBootFiles(kernel, files.get(kernel.Package)!, seabios, files.get(seabios.Package)!, o.signal);
  const kernelVersion = boot.kernelVersion;

  progress(0.32, "Unpacking the packages");
  const debs: DebArchive[] = [];
  for (const pkg of packages) debs.push(await readDeb(files.get(pkg.Package)!, { signal: o.signal }));
  const tree = await assembleRootfs(debs, {
    mtime: EPOCH,
    signal: o.signal,
    onPackage: (done, all, name) => progress(0.32 + (0.1 * done) / all, `Unpacking ${name}`),
  });
  const busybox = tree.get("usr/bin/busybox")?.content;
  if (!busybox) throw new HangarError("busybox-static has no /bin/busybox.");
  addBoxFiles(tree, debs, mirror);
  withParents(tree, EPOCH);

  const pair = generateEd25519KeyPair("hangar box bootstrap key");
  const version = builtBoxVersion(DEBIAN_BOX_REVISION, kernelVersion);
  const metadata = builtBoxMetadata(pair.public, {
    disk: "disk.img",
    diskBytes: DEBIAN_BOX_DISK_BYTES,
    defaultMemoryMiB: DEBIAN_BOX_MEMORY_MIB,
    built: { kernel: `${kernel.Package} ${kernel.Version}`, packages: packages.map((p) => `${p.Package} ${p.Version}`) },
  });

  const dir = await publishBox(o.hangarHome, DEBIAN_BOX_NAME, version, async (tmp) => {
    progress(0.43, "Writing the root file system's disk image");
    const disk = path.join(tmp, "disk.img");
    await writeExtImage(disk, tree.values(), { sizeBytes: DEBIAN_BOX_DISK_BYTES, label: "hangar-root", mtime: EPOCH });
    tree.clear(); // the packages' bytes are on the disk now
    await fs.writeFile(path.join(tmp, "vmlinuz"), boot.vmlinuz);
    await fs.writeFile(path.join(tmp, "initrd.img"), stageInitramfs(busybox, boot));
    await fs.writeFile(path.join(tmp, "bios.bin"), boot.bios);
    await fs.writeFile(path.join(tmp, "vgabios-stdvga.bin"), boot.vgaBios);
    progress(0.45, "Configuring the packages in the machine (debootstrap's second stage)");
    let configured = 0;
    await runGuestStage({
      bios: path.join(tmp, metadata.bios),
      vgaBios: path.join(tmp, metadata.vgaBios),
      kernel: path.join(tmp, metadata.kernel),
      initrd: path.join(tmp, metadata.initrd),
      memoryMiB: DEBIAN_BOX_MEMORY_MIB,
      stage: "second",
      disk: { file: disk, sizeBytes: DEBIAN_BOX_DISK_BYTES },
      timeoutMs: SECOND_STAGE_TIMEOUT_MS,
      onLine: (line) => progress(0.45 + 0.5 * Math.min(1, configured++ / packages.length), line),
      signal: o.signal,
    });
    await writeFileAtomic(path.join(tmp, "bootstrap_key"), pair.private, { mode: 0o600 });
    await writeFileAtomic(path.join(tmp, "metadata.json"), JSON.stringify(metadata, null, 2) + "\n");
  });
  progress(1, `Built ${DEBIAN_BOX_NAME} ${version}`);
  return { dir, version, initrdSha256: "", packages: packages.map((p) => `${p.Package} ${p.Version}`) };
}

/** What the box adds to the packages: boot, init, SSH and apt configuration, host keys, and the second stage's inputs. */
function addBoxFiles(tree: Map<string, DebEntry>, debs: readonly DebArchive[], mirror: string): void {
  const file = (p: string, content: string, mode = 0o644): void => void tree.set(p, { path: p, type: "file", mode, uid: 0, gid: 0, mtime: EPOCH, content: Buffer.from(content) });
  const link = (p: string, target: string): void => void tree.set(p, { path: p, type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: EPOCH, linkname: target });
  file("usr/lib/hangar/boot", BOOT_SCRIPT, 0o755);
  file("usr/lib/hangar/shutdown", SHUTDOWN_SCRIPT, 0o755);
  file("usr/lib/hangar/second-stage", secondStageScript({ vagrant: true }), 0o755);
  file("usr/lib/hangar/udhcpc.script", UDHCPC_SCRIPT, 0o755);
  file("etc/inittab", INITTAB);
  file("etc/fstab", FSTAB);
  file("etc/hostname", "hangar\n");
  file("etc/hosts", HOSTS);
  file("etc/ssh/sshd_config.d/hangar.conf", SSHD_CONFIG);
  file("etc/apt/sources.list.d/debian.sources", aptSources(mirror, HOST_GATEWAY_IP));
  file("usr/sbin/policy-rc.d", POLICY_RC_D, 0o755);
  // busybox's init is the machine's init (invoke-rc.d starts nothing where /sbin/init is missing), in runlevel 2.
  link("usr/sbin/init", "../bin/busybox");
  file("usr/sbin/runlevel", RUNLEVEL_SCRIPT, 0o755);
  // The synced folders' watch helper (guest-watch-relay.ts), as the busybox box ships it.
  file(WATCH_HELPER_FILE.slice(1), WATCH_HELPER, 0o755);
  // The order preinst scripts run in: base-passwd first (it makes /etc/passwd), then dependencies before their dependents.
  const order = debs.map((d) => dpkgInfoName(d.control)).reverse();
  order.sort((a, b) => Number(b === "base-passwd") - Number(a === "base-passwd"));
  file(PACKAGE_ORDER_FILE, order.join("\n") + "\n");
  // What debootstrap puts in place before any script runs: scripts call awk before mawk's configure makes the alternative.
  if (!tree.has("usr/bin/awk")) link("usr/bin/awk", "mawk");
  if (!tree.has("usr/bin/sh")) link("usr/bin/sh", "dash");
  // Host keys made here: openssh-server's postinst makes only missing ones. Each machine makes its own on its first up
  // (machine-runner.ts); no RSA key, whose generation takes the emulated guest minutes (sshd's HostKey lines say which).
  for (const type of ["ed25519", "ecdsa"] as const) {
    const pair = type === "ed25519" ? generateEd25519KeyPair("root@hangar") : sshUtils.generateKeyPairSync(type, { bits: 256, comment: "root@hangar" });
    file(`etc/ssh/ssh_host_${type}_key`, pair.private, 0o600);
    file(`etc/ssh/ssh_host_${type}_key.pub`, pair.public + "\n");
  }
}
