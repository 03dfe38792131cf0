import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { utils as sshUtils } from "ssh2";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { boxNameToDir } from "../box-store";
import type { EmbeddedBoxMetadata } from "../embedded-box";
import { resolveDebianMirror } from "../debian/apt-sources";
import { readDebData, type DebEntry } from "../debian/deb-file";
import { DebianPackages, type DebianPackage } from "../debian/debian-packages";
import { DownloadStore } from "../download-store";
import { writeCpio, type CpioEntry } from "../initramfs-cpio";
import { GROUP, GUEST_MODULES, initScript, KERNEL_CMDLINE, PASSWD, READY_MARKER, SHELLS, UDHCPC_SCRIPT } from "./guest-files";

export const DEFAULT_BOX_NAME = "hangar/debian-busybox";

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
  const { url: mirror } = await resolveDebianMirror({ setting: o.mirror, env: o.env });
  const store = new DownloadStore(path.join(o.hangarHome, "cache", "debian"));
  progress(0.02, "Reading the Debian package index");
  const index = await DebianPackages.load(mirror, store, { signal: o.signal });
  const kernel = index.latestKernel();
  const busybox = index.require("busybox-static");
  const seabios = index.require("seabios");
  const dropbear = index.closure(["dropbear-bin"]);
  const all = [kernel, busybox, seabios, ...dropbear];
  const total = all.reduce((n, p) => n + p.size, 0);
  let done = 0;
  const files = new Map<string, string>();
  for (const pkg of all) {
    const file = await store.fetch(`${mirror}/${pkg.filename}`, {
      sha256: pkg.sha256,
      size: pkg.size,
      signal: o.signal,
      onProgress: (received) => progress(0.05 + (0.6 * (done + received)) / total, `Downloading ${pkg.name} ${pkg.version}`),
    });
    done += pkg.size;
    files.set(pkg.name, file);
  }

  progress(0.7, `Unpacking ${kernel.name}`);
  const kernelEntries = await readDebData(files.get(kernel.name)!, (p) => /^boot\/vmlinuz-/.test(p) || /^lib\/modules\/[^/]+\/modules\.(dep|order)$/.test(p) || isWantedModule(p));
  const vmlinuz = kernelEntries.find((e) => e.path.startsWith("boot/vmlinuz-"));
  if (!vmlinuz?.data) throw new HangarError(`${kernel.name} has no boot/vmlinuz-*.`);
  const kernelVersion = vmlinuz.path.slice("boot/vmlinuz-".length);
  const modulePaths = GUEST_MODULES.map((m) => {
    const e = kernelEntries.find((x) => x.path.startsWith(`lib/modules/${kernelVersion}/`) && x.path.endsWith(`/${m}.ko`));
    if (!e) throw new HangarError(`${kernel.name} has no ${m}.ko module, which the default box needs.`);
    return e;
  });

  progress(0.8, "Unpacking busybox, dropbear and libraries");
  const tree = new Map<string, DebEntry>();
  const addAll = (entries: DebEntry[]): void => entries.forEach((e) => tree.set(e.path, e));
  addAll(await readDebData(files.get(busybox.name)!, (p) => p === "bin/busybox"));
  for (const pkg of dropbear) {
    addAll(await readDebData(files.get(pkg.name)!, (p) => p === "usr/sbin/dropbear" || isLibrary(p)));
  }
  addAll(modulePaths);
  const bios = await readDebData(files.get(seabios.name)!, (p) => p === "usr/share/seabios/bios.bin" || p === "usr/share/seabios/vgabios-stdvga.bin");
  const biosFile = bios.find((e) => e.path.endsWith("/bios.bin"));
  const vgaFile = bios.find((e) => e.path.endsWith("/vgabios-stdvga.bin"));
  if (!biosFile?.data || !vgaFile?.data) throw new HangarError(`${seabios.name} lacks bios.bin or vgabios-stdvga.bin.`);

  progress(0.88, "Writing the initramfs");
  const initrd = writeCpio(initramfsEntries(tree, kernelVersion, modulePaths.map((m) => m.path.slice(`lib/modules/${kernelVersion}/`.length))));
  const initrdSha256 = createHash("sha256").update(initrd).digest("hex");

  // The box's bootstrap key pair (Vagrant's "insecure key", but per box).
  const pair = sshUtils.generateKeyPairSync("ed25519", { comment: "hangar box bootstrap key" });
  const abi = /-(\d+)-686$/.exec(kernelVersion)?.[1] ?? "0";
  const version = `1.0.${abi}`;
  const metadata: EmbeddedBoxMetadata & { built: object } = {
    provider: "embedded",
    format: 1,
    kernel: "vmlinuz",
    initrd: "initrd.img",
    bios: "bios.bin",
    vgaBios: "vgabios-stdvga.bin",
    cmdline: `${KERNEL_CMDLINE} hangar.key=${Buffer.from(pair.public).toString("base64")}`,
    bootstrapKey: "bootstrap_key",
    readyMarker: READY_MARKER,
    built: { kernel: `${kernel.name} ${kernel.version}`, packages: all.map((p) => `${p.name} ${p.version}`), initrdSha256 },
  };

  progress(0.95, "Adding the box to the box store");
  const boxesRoot = path.join(o.hangarHome, "boxes");
  const finalDir = path.join(boxesRoot, boxNameToDir(DEFAULT_BOX_NAME), version, "embedded");
  const tmp = path.join(boxesRoot, `.tmp-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fs.writeFile(path.join(tmp, "vmlinuz"), vmlinuz.data);
    await fs.writeFile(path.join(tmp, "initrd.img"), initrd);
    await fs.writeFile(path.join(tmp, "bios.bin"), biosFile.data);
    await fs.writeFile(path.join(tmp, "vgabios-stdvga.bin"), vgaFile.data);
    await writeFileAtomic(path.join(tmp, "bootstrap_key"), pair.private, { mode: 0o600 });
    await writeFileAtomic(path.join(tmp, "metadata.json"), JSON.stringify(metadata, null, 2) + "\n");
    // Publish whole or not at all: a half-built box is never visible.
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.mkdir(path.dirname(finalDir), { recursive: true });
    await fs.rename(tmp, finalDir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  progress(1, `Built ${DEFAULT_BOX_NAME} ${version}`);
  return { dir: finalDir, version, initrdSha256, packages: all.map((p: DebianPackage) => `${p.name} ${p.version}`) };
}

function isWantedModule(p: string): boolean {
  const m = /^lib\/modules\/[^/]+\/kernel\/.*\/([^/]+)\.ko$/.exec(p);
  return !!m && (GUEST_MODULES as readonly string[]).includes(m[1]);
}

/** Shared libraries and the dynamic loader; not gconv, docs or other data. */
function isLibrary(p: string): boolean {
  return /^(usr\/)?lib\/(i386-linux-gnu\/)?[^/]+\.so(\.[\d.]+)?$/.test(p) || p === "lib/ld-linux.so.2" || /^(usr\/)?lib\/i386-linux-gnu\/ld-linux\.so\.2$/.test(p);
}

function initramfsEntries(tree: Map<string, DebEntry>, kernelVersion: string, moduleFiles: string[]): CpioEntry[] {
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>(["bin", "sbin", "usr", "usr/bin", "usr/sbin", "lib", "etc", "etc/hangar", "etc/dropbear", "proc", "sys", "dev", "tmp", "run", "root", "var", "var/log", "mnt", `lib/modules/${kernelVersion}`]);
  for (const p of tree.keys()) for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort()) entries.push({ path: d, type: "directory", mode: d === "tmp" ? 0o1777 : d === "root" ? 0o700 : 0o755 });
  entries.push({ path: "dev/console", type: "char", mode: 0o600, major: 5, minor: 1 });
  for (const [p, e] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (e.type === "file" && e.data) entries.push({ path: p, type: "file", mode: e.mode, data: e.data });
    else if (e.type === "symlink" && e.linkname) entries.push({ path: p, type: "symlink", target: e.linkname });
  }
  const text = (p: string, content: string, mode = 0o644): void => void entries.push({ path: p, type: "file", mode, data: Buffer.from(content) });
  text("init", initScript(moduleFiles), 0o755);
  text("etc/hangar/udhcpc.script", UDHCPC_SCRIPT, 0o755);
  text("etc/passwd", PASSWD);
  text("etc/group", GROUP);
  text("etc/shells", SHELLS);
  return entries;
}
