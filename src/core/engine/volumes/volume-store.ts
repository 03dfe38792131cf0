import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";
import { MountInvalidError, VolumeNotFoundError } from "./volume-errors";

/** Docker's local volume names (daemon/names): two or more characters, the first alphanumeric. */
export const VALID_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** The label Docker (23+) puts on volumes it made without a name; `volume prune` removes only these unless asked for all. */
export const ANONYMOUS_LABEL = "com.docker.volume.anonymous";
/** Each volume's metadata beside its `_data` folder. */
const METADATA = "volume.json";
/** A volume being removed is first renamed to this prefix, so it is gone from listings at once, then deleted. */
const TRASH_PREFIX = ".removing-";

/** Docker's Volume object (GET /volumes/{name}). */
export interface Volume {
  Name: string;
  Driver: "local";
  /** The host folder holding the volume's files (HANGAR_HOME/engine/volumes/<name>/_data). */
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Scope: "local";
  Options: Record<string, string> | null;
}

export interface CreateVolumeOptions {
  /** Absent or empty: a random 64-hex name, as Docker gives anonymous volumes. */
  name?: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * Named volumes as host folders: HANGAR_HOME/engine/volumes/<name>/_data
 * (the engine machine sees the volumes folder over 9p), with each volume's
 * metadata in volume.json beside it, written atomically. A folder without
 * metadata is a create that did not finish; it is not a volume, and a later
 * create of the same name takes it over. Volumes outlive containers, the
 * engine and the engine machine.
 */
export class VolumeStore {
  private readonly volumes = new Map<string, Volume>();

  private constructor(
    readonly root: string,
    private readonly onEvent: (action: "create" | "destroy", volume: Volume) => void,
  ) {}

  static async open(root: string, onEvent: VolumeStore["onEvent"] = () => undefined): Promise<VolumeStore> {
    await fs.mkdir(root, { recursive: true });
    const store = new VolumeStore(root, onEvent);
    for (const name of await fs.readdir(root)) {
      // A removal the engine did not finish (it crashed): finish it.
      if (name.startsWith(TRASH_PREFIX)) {
        await fs.rm(path.join(root, name), { recursive: true, force: true });
        continue;
      }
      if (!VALID_VOLUME_NAME.test(name)) continue;
      const text = await fs.readFile(path.join(root, name, METADATA), "utf8").catch(() => undefined);
      if (text === undefined) continue;
      const meta = JSON.parse(text) as Omit<Volume, "Mountpoint">;
      store.volumes.set(name, { ...meta, Name: name, Mountpoint: store.dataDir(name) });
    }
    return store;
  }

  /** The host folder of a volume's files. */
  dataDir(name: string): string {
    return path.join(this.root, name, "_data");
  }

  list(): Volume[] {
    return [...this.volumes.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  get(name: string): Volume {
    const v = this.volumes.get(name);
    if (!v) throw new VolumeNotFoundError(name);
    return v;
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  /**
   * Docker's create: a name already taken returns that volume unchanged (so
   * `docker volume create x` twice is fine, as with Docker). Only the local
   * driver, without options: volumes are host folders.
   */
  async create(o: CreateVolumeOptions = {}): Promise<{ volume: Volume; created: boolean }> {
    const driver = o.driver || "local";
    if (driver !== "local") throw new MountInvalidError(`Volume driver "${driver}" is not available: Hangar's engine has only the "local" driver.`, "Leave out --driver (or use --driver local).");
    const opts = Object.keys(o.driverOpts ?? {});
    if (opts.length)
      throw new MountInvalidError(
        `Hangar's engine keeps volumes as folders on the host and takes no driver options (${opts.join(", ")}).`,
        "Leave out --opt; for a host folder use a bind mount (-v /host/path:/path).",
      );
    const name = o.name || randomBytes(32).toString("hex");
    checkVolumeName(name);
    const existing = this.volumes.get(name);
    if (existing) return { volume: existing, created: false };
    const labels = o.labels ?? {};
    for (const [k, v] of Object.entries(labels)) if (typeof v !== "string") throw new MountInvalidError(`The value of volume label "${k}" must be a string.`);
    const volume: Volume = {
      Name: name,
      Driver: "local",
      Mountpoint: this.dataDir(name),
      CreatedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      Labels: Object.keys(labels).length ? { ...labels } : null,
      Scope: "local",
      Options: null,
    };
    await fs.mkdir(volume.Mountpoint, { recursive: true });
    const { Mountpoint: _, ...meta } = volume;
    // The metadata last: until it is there, the folder is not a volume.
    await writeFileAtomic(path.join(this.root, name, METADATA), JSON.stringify(meta));
    this.volumes.set(name, volume);
    this.onEvent("create", volume);
    return { volume, created: true };
  }

  /** Deletes a volume and its files. Whether containers use it is the caller's check (the store does not know containers). */
  async remove(name: string): Promise<void> {
    const volume = this.get(name);
    const trash = path.join(this.root, `${TRASH_PREFIX}${name}-${randomBytes(4).toString("hex")}`);
    // The rename makes the removal one atomic step: a crash later leaves only trash, which open() clears.
    await fs.rename(path.join(this.root, name), trash);
    this.volumes.delete(name);
    await fs.rm(trash, { recursive: true, force: true });
    this.onEvent("destroy", volume);
  }

  /** Bytes of the files in a volume (what `docker system df -v` shows), symlinks not followed. */
  async size(name: string): Promise<number> {
    return folderSize(this.dataDir(this.get(name).Name));
  }
}

export function isAnonymous(v: Volume): boolean {
  return v.Labels !== null && ANONYMOUS_LABEL in v.Labels;
}

export function checkVolumeName(name: string): void {
  if (name.length < 2 && /^[a-zA-Z0-9]*$/.test(name)) throw new MountInvalidError(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  if (!VALID_VOLUME_NAME.test(name))
    throw new MountInvalidError(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else total += (await fs.lstat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
