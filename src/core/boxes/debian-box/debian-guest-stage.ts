import * as path from "node:path";
import { Emulator } from "../../emulator/emulator-host";
import { CancelledError, HangarError } from "../../util/errors";
import { CpioWriter } from "../cpio-writer";
import { readDeb, type DebEntry } from "../debian/deb-archive";
import type { DebianKernelPackage, DebianPackage } from "../debian/debian-repository";
import { GUEST_MODULES, KERNEL_CMDLINE } from "../default-box/guest-files";
import { debianInitramfsInit, SECOND_STAGE_MARKER } from "./debian-box-files";

/**
 * What a Debian tree built on the host needs to finish in the emulator
 * (debootstrap's second stage): the Debian kernel, its disk drivers, SeaBIOS,
 * an initramfs that mounts the tree's disk, and a run of the guest that
 * waits for the stage's exit status on the serial console. The box builder
 * and the Debian base images (engine/images/debian-images.ts) both use it.
 */

export interface GuestBootFiles {
  kernelVersion: string;
  vmlinuz: Buffer;
  /** The drivers the initramfs loads (GUEST_MODULES), from the kernel package. */
  modules: DebEntry[];
  bios: Buffer;
  vgaBios: Buffer;
}

/** The kernel, its modules and SeaBIOS from their downloaded packages. */
export async function extractBootFiles(kernel: DebianKernelPackage, kernelDeb: string, seabios: DebianPackage, seabiosDeb: string, signal?: AbortSignal): Promise<GuestBootFiles> {
  const kernelVersion = kernel.kernelRelease;
  const kernelEntries = new Map<string, DebEntry>();
  await (
    await readDeb(kernelDeb, { signal })
  ).extractData(
    (p) => p === `boot/vmlinuz-${kernelVersion}` || /\.ko$/.test(p),
    (e) => void kernelEntries.set(e.path, e),
    { signal },
  );
  const vmlinuz = kernelEntries.get(`boot/vmlinuz-${kernelVersion}`)?.content;
  if (!vmlinuz) throw new HangarError(`${kernel.Package} has no boot/vmlinuz-${kernelVersion}.`);
  const modules = GUEST_MODULES.map((m) => {
    const e = [...kernelEntries.values()].find((x) => x.path.startsWith(`lib/modules/${kernelVersion}/`) && x.path.endsWith(`/${m}.ko`));
    if (!e?.content) throw new HangarError(`${kernel.Package} has no ${m}.ko module, which the box needs.`);
    return e;
  });
  const bios = new Map<string, Buffer>();
  await (
    await readDeb(seabiosDeb, { signal })
  ).extractData(
    (p) => p === "usr/share/seabios/bios.bin" || p === "usr/share/seabios/vgabios-stdvga.bin",
    (e) => void (e.content && bios.set(path.posix.basename(e.path), e.content)),
    { signal },
  );
  if (!bios.get("bios.bin") || !bios.get("vgabios-stdvga.bin")) throw new HangarError(`${seabios.Package} lacks bios.bin or vgabios-stdvga.bin.`);
  return { kernelVersion, vmlinuz, modules, bios: bios.get("bios.bin")!, vgaBios: bios.get("vgabios-stdvga.bin")! };
}

/** The initramfs: busybox, the drivers, and an /init that mounts the disk (debianInitramfsInit). */
export function stageInitramfs(busybox: Buffer, boot: GuestBootFiles): Buffer {
  const { kernelVersion, modules } = boot;
  const cpio = new CpioWriter();
  for (const d of ["bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules", `lib/modules/${kernelVersion}`]) cpio.addDirectory(d, { mode: 0o755 });
  cpio.addCharDevice("dev/console", 5, 1, { mode: 0o600 });
  cpio.addFile("bin/busybox", busybox, { mode: 0o755 });
  const dirs = new Set<string>();
  for (const m of modules) for (let d = path.posix.dirname(m.path); d !== `lib/modules/${kernelVersion}`; d = path.posix.dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort()) cpio.addDirectory(d, { mode: 0o755 });
  for (const m of modules) cpio.addFile(m.path, m.content!, { mode: 0o644 });
  cpio.addFile("init", debianInitramfsInit(modules.map((m) => m.path.slice(`lib/modules/${kernelVersion}/`.length))), { mode: 0o755 });
  return cpio.toBuffer();
}

export interface GuestStageOptions {
  /** Files the emulator boots from. */
  bios: string;
  vgaBios: string;
  kernel: string;
  initrd: string;
  memoryMiB: number;
  /** `second` configures the disk's packages; `image` also writes the configured tree as a tar to the output disk. */
  stage: "second" | "image";
  disk: { file: string; sizeBytes: number };
  outputDisk?: { file: string; sizeBytes: number };
  timeoutMs: number;
  /** Each "Setting up" and "hangar:" line of the guest's console. */
  onLine(line: string): void;
  signal?: AbortSignal;
}

/** Boots the kernel on the disk with hangar.stage=STAGE and waits for the stage's exit status; throws unless it is 0. */
export async function runGuestStage(o: GuestStageOptions): Promise<void> {
  const emulator = await Emulator.start({
    biosFile: o.bios,
    vgaBiosFile: o.vgaBios,
    memoryMiB: o.memoryMiB,
    kernelFile: o.kernel,
    initrdFile: o.initrd,
    cmdline: `${KERNEL_CMDLINE} hangar.stage=${o.stage}`,
    disk: o.disk,
    outputDisk: o.outputDisk,
  });
  const tail: string[] = [];
  const marker = new RegExp(`${SECOND_STAGE_MARKER} (\\d+)`);
  let abort: (() => void) | undefined;
  try {
    const code = await new Promise<number>((resolve, reject) => {
      let partial = "";
      const timer = setTimeout(() => reject(new HangarError(`The second stage did not finish within ${o.timeoutMs / 60_000} minutes. Last lines:\n${tail.join("\n")}`)), o.timeoutMs);
      abort = (): void => reject(new CancelledError("Cancelled while configuring packages; nothing was added."));
      o.signal?.addEventListener("abort", abort, { once: true });
      emulator.on("serial", (text: string) => {
        partial += text;
        const lines = partial.split(/\r?\n/);
        partial = lines.pop() ?? "";
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          if (/^(Setting up|hangar:)/.test(line)) o.onLine(line.trim());
          const m = marker.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        }
      });
      emulator.once("exit", () => reject(new HangarError(`The emulator stopped during the second stage. Last lines:\n${tail.join("\n")}`)));
    });
    if (code !== 0) throw new HangarError(`Configuring the packages in the machine failed (exit ${code}). Last lines:\n${tail.join("\n")}`);
  } finally {
    if (abort) o.signal?.removeEventListener("abort", abort);
    await emulator.stop();
  }
}
