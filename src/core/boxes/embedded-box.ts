import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../util/errors";

/**
 * An embedded-provider box on disk: what v86 needs to boot it. Its
 * metadata.json (Vagrant's file, with Hangar's fields) names the files.
 */
export interface EmbeddedBoxMetadata {
  provider: "embedded";
  format: 1;
  kernel: string;
  initrd: string;
  bios: string;
  vgaBios: string;
  cmdline: string;
  /** Private key the box accepts until a machine installs its own (Vagrant's insecure key). */
  bootstrapKey: string;
  /** Printed on the serial console when SSH is up. */
  readyMarker: string;
  /** The root file system's disk image (a box whose root is a disk, not its initramfs): machines get copy-on-write disks over it. */
  disk?: string;
  /** The size of the disk the guest sees, in bytes (the image is sparse). */
  diskBytes?: number;
  /** Memory for machines that do not say (the box's own need). */
  defaultMemoryMiB?: number;
  /** Who people log in as (Vagrant's `vagrant`); boxes from before it had one log in as root. */
  sshUser?: string;
  /** That user's ids: synced folders are theirs in the guest, as Vagrant mounts them. */
  sshUserIds?: { uid: number; gid: number };
}

export class EmbeddedBox {
  private constructor(
    readonly dir: string,
    readonly metadata: EmbeddedBoxMetadata,
  ) {}

  static async open(dir: string): Promise<EmbeddedBox> {
    let meta: EmbeddedBoxMetadata;
    try {
      meta = JSON.parse(await fs.readFile(path.join(dir, "metadata.json"), "utf8")) as EmbeddedBoxMetadata;
    } catch (err) {
      throw new HangarError(`The box at ${dir} has no readable metadata.json (${(err as Error).message}).`, "Remove the box and add or build it again.");
    }
    if (meta.provider !== "embedded" || meta.format !== 1) throw new HangarError(`The box at ${dir} is for provider '${String(meta.provider)}', not Hangar's embedded emulator.`);
    if (meta.disk !== undefined && (typeof meta.disk !== "string" || !Number.isSafeInteger(meta.diskBytes) || (meta.diskBytes ?? 0) <= 0 || (meta.diskBytes ?? 0) % 512 !== 0))
      throw new HangarError(`The box at ${dir} names a disk without a valid size (diskBytes).`, "Remove the box and add or build it again.");
    for (const key of ["kernel", "initrd", "bios", "vgaBios", "bootstrapKey", ...(meta.disk ? (["disk"] as const) : [])] as const) {
      const file = path.join(dir, meta[key]!);
      try {
        await fs.access(file);
      } catch {
        throw new HangarError(`The box at ${dir} is incomplete: ${meta[key]} is missing.`, "Remove the box and add or build it again.");
      }
    }
    return new EmbeddedBox(dir, meta);
  }

  file(key: "kernel" | "initrd" | "bios" | "vgaBios" | "bootstrapKey"): string {
    return path.join(this.dir, this.metadata[key]);
  }

  /** The root file system's disk image and its size, for a box whose root is a disk. */
  get disk(): { file: string; sizeBytes: number } | undefined {
    const { disk, diskBytes } = this.metadata;
    return disk && diskBytes ? { file: path.join(this.dir, path.basename(disk)), sizeBytes: diskBytes } : undefined;
  }

  /**
   * The saved state of this box just after boot, for this memory size and
   * emulator version (states are not portable across either); "h1" is the
   * state-file layout with the host-served 9p device.
   */
  bootedStateFile(memoryMiB: number, emulatorVersion: string): string {
    return path.join(this.dir, `booted-${emulatorVersion}-${memoryMiB}m-h1.state`);
  }
}
