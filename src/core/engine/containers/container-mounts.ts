import { promises as fs } from "node:fs";
import { exists } from "../../util/path-exists";
import type { GuestMount } from "../runtime/guest-runtime";
import { GUEST_VOLUMES_DIR, type EngineShares } from "../volumes/engine-shares";
import { MountInvalidError } from "../volumes/volume-errors";
import { ANONYMOUS_LABEL, isAnonymous, type VolumeStore } from "../volumes/volume-store";
import { cleanDestination, mountRequests, type MountConfig, type MountHostConfig, type MountRequest } from "./mount-specs";

/** Docker's MountPoint, as `docker inspect` shows a container's Mounts. */
export interface MountPoint {
  Type: "volume" | "bind" | "tmpfs";
  Name?: string;
  /** volume: its host folder; bind: the host path; tmpfs: "". */
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/**
 * A container's mounts over its life: at create, every mount is checked
 * first (names, paths, shared roots), then missing -v bind folders and
 * volumes are made (a volume given by name, or an anonymous one for
 * `-v /path` and the image's VOLUMEs) and the result is the container's
 * Mounts; at start, they become the engine machine's view (9p folders);
 * at `rm -v` (and --rm) the anonymous volumes go with the container.
 */
export class ContainerMounts {
  constructor(
    readonly volumes: VolumeStore,
    readonly shares: EngineShares,
  ) {}

  async prepare(config: MountConfig, host: MountHostConfig, imageVolumes: Record<string, unknown> | null | undefined): Promise<MountPoint[]> {
    const requests = mountRequests(config, host, imageVolumes);
    // Everything that can be refused is refused before anything is made.
    for (const r of requests) if (r.type === "bind") await this.checkBind(r);
    const points: MountPoint[] = [];
    for (const r of requests) {
      if (r.type === "bind") {
        if (r.createSource) await makeMissingFolder(r.source);
        points.push({ Type: "bind", Source: r.source, Destination: r.destination, Mode: r.mode, RW: !r.readOnly, Propagation: "rprivate" });
      } else if (r.type === "volume") {
        const labels = r.source ? r.labels : { ...r.labels, [ANONYMOUS_LABEL]: "" };
        const { volume } = await this.volumes.create({ name: r.source || undefined, labels });
        points.push({ Type: "volume", Name: volume.Name, Source: volume.Mountpoint, Destination: r.destination, Driver: "local", Mode: r.mode, RW: !r.readOnly, Propagation: "" });
      } else {
        // --tmpfs mounts are not listed in Docker's Mounts; --mount type=tmpfs ones are.
        if (Object.keys((host.Tmpfs as Record<string, string> | null | undefined) ?? {}).some((k) => cleanDestination(k, k) === r.destination)) continue;
        points.push({ Type: "tmpfs", Source: "", Destination: r.destination, Mode: "", RW: !r.readOnly, Propagation: "" });
      }
    }
    return points.sort((a, b) => a.Destination.localeCompare(b.Destination));
  }

  /**
   * The mounts as the engine machine makes them at start. A -v bind folder
   * deleted since create is made again (Docker does); a --mount bind source
   * must still exist; a removed volume is an error.
   */
  async guestMounts(config: MountConfig, host: MountHostConfig, mounts: MountPoint[]): Promise<GuestMount[]> {
    const requests = new Map<string, MountRequest>();
    for (const r of mountRequests(config, host, {})) requests.set(r.destination, r);
    const out: GuestMount[] = [];
    for (const m of mounts) {
      const r = requests.get(m.Destination);
      if (m.Type === "volume") {
        const name = m.Name ?? "";
        if (!this.volumes.has(name))
          throw new MountInvalidError(`The container's volume ${name} (at ${m.Destination}) no longer exists.`, "Create it again (docker volume create), or remove this container and run a new one.");
        out.push({ kind: "bind", source: `${GUEST_VOLUMES_DIR}/${name}/_data`, destination: m.Destination, readOnly: !m.RW, copyUp: !(r?.noCopy ?? false) });
      } else if (m.Type === "bind") {
        const request: MountRequest = r ?? { type: "bind", source: m.Source, destination: m.Destination, readOnly: !m.RW, mode: m.Mode, noCopy: false, createSource: false };
        await this.checkBind(request);
        if (request.createSource) await makeMissingFolder(m.Source);
        out.push({ kind: "bind", source: this.shares.guestPathOf(m.Source), destination: m.Destination, readOnly: !m.RW });
      }
    }
    for (const r of requests.values()) if (r.type === "tmpfs") out.push({ kind: "tmpfs", source: "", destination: r.destination, readOnly: r.readOnly, options: r.tmpfsOptions });
    return out;
  }

  /**
   * The bind-mounted host folders whose changes the container's file
   * watchers should hear of (as real paths, with the engine machine's path of
   * each); file binds and missing sources are left out.
   */
  async watchedBinds(mounts: MountPoint[]): Promise<Array<{ hostPath: string; guestPath: string }>> {
    const out: Array<{ hostPath: string; guestPath: string }> = [];
    for (const m of mounts) {
      if (m.Type !== "bind") continue;
      const real = await fs.realpath(m.Source).catch(() => undefined);
      if (!real || !(await fs.stat(real)).isDirectory()) continue;
      out.push({ hostPath: real, guestPath: this.shares.guestPathOf(real) });
    }
    return out;
  }

  /** Deletes the container's anonymous volumes that no other container mounts (`docker rm -v`, and --rm). */
  async removeAnonymous(mounts: MountPoint[], others: Array<{ Mounts: MountPoint[] }>): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== "volume" || !m.Name || !this.volumes.has(m.Name) || !isAnonymous(this.volumes.get(m.Name))) continue;
      if (others.some((o) => o.Mounts.some((x) => x.Type === "volume" && x.Name === m.Name))) continue;
      await this.volumes.remove(m.Name);
    }
  }

  /** Shared with the engine machine; for --mount (no CreateMountpoint), already there. */
  private async checkBind(r: MountRequest): Promise<void> {
    this.shares.guestPathOf(r.source);
    if (!r.createSource && !(await exists(r.source))) throw new MountInvalidError(`invalid mount config for type "bind": bind source path does not exist: ${r.source}`);
  }
}

/** Names of the containers (any state) that mount a volume. */
export function volumeUsers(containers: Array<{ Id: string; Mounts: MountPoint[] }>, volume: string): string[] {
  return containers.filter((c) => c.Mounts.some((m) => m.Type === "volume" && m.Name === volume)).map((c) => c.Id);
}

/** A -v bind source that is missing becomes a folder (Docker's behaviour); a file or folder already there is used as it is. */
async function makeMissingFolder(p: string): Promise<void> {
  if (!(await exists(p))) await fs.mkdir(p, { recursive: true });
}
