import { realpathSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HangarError } from "../../util/errors";
import { MountInvalidError } from "./volume-errors";

/** Where the engine machine sees HANGAR_HOME/engine/volumes (a 9p synced folder). */
export const GUEST_VOLUMES_DIR = "/var/lib/hangar/volumes";
/** Where the engine machine sees the shared host roots: /var/lib/hangar/host/<n> (never at their host paths, which could hide the guest's own /root or /tmp). */
export const GUEST_HOST_DIR = "/var/lib/hangar/host";
/** The environment variable listing the host folders bind mounts may come from (path-delimited, as PATH). */
export const SHARES_ENV = "HANGAR_ENGINE_SHARES";
/** Root, as Docker's daemon sees volume and bind files (the engine's containers run as root). */
const ROOT_OWNER = { uid: 0, gid: 0 };

export interface EngineSyncedFolder {
  hostPath: string;
  guestPath: string;
  owner: { uid: number; gid: number };
}

/**
 * The host folders the engine machine can see, as Docker Desktop shares a set
 * of host folders with its VM: the user's home and the temporary folder by
 * default, or the folders HANGAR_ENGINE_SHARES lists. A bind mount's source
 * must lie under one of them; its guest path is the same place under that
 * root's share. Roots are compared as real paths (symlinks resolved), so a
 * symlink inside a root that leads outside it does not get out.
 */
export class EngineShares {
  private constructor(
    /** Real paths, none inside another. */
    readonly roots: string[],
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv): EngineShares {
    const listed = env[SHARES_ENV];
    const given = listed !== undefined && listed.trim() !== "" ? listed.split(path.delimiter).filter((p) => p.trim() !== "") : [os.homedir(), os.tmpdir()];
    for (const p of given) if (!path.isAbsolute(p)) throw new HangarError(`${SHARES_ENV} lists "${p}", which is not an absolute path.`, `List absolute host folders separated by "${path.delimiter}".`);
    return EngineShares.of(given);
  }

  /** Missing folders are left out (there is nothing to share); nested ones are covered by their parent. */
  static of(folders: string[]): EngineShares {
    const real = folders.map(realDir).filter((p): p is string => p !== undefined);
    const unique = [...new Set(real)];
    const roots = unique.filter((p) => !unique.some((parent) => isInside(p, parent)));
    return new EngineShares(roots);
  }

  /** The engine machine's 9p synced folders: the volumes folder, the layer staging folder (layer-staging.ts) when given, then each root. */
  syncedFolders(volumesRoot: string, staging?: { hostDir: string; guestDir: string }): EngineSyncedFolder[] {
    return [
      { hostPath: volumesRoot, guestPath: GUEST_VOLUMES_DIR, owner: ROOT_OWNER },
      ...(staging ? [{ hostPath: staging.hostDir, guestPath: staging.guestDir, owner: ROOT_OWNER }] : []),
      ...this.roots.map((hostPath, i) => ({ hostPath, guestPath: `${GUEST_HOST_DIR}/${i}`, owner: ROOT_OWNER })),
    ];
  }

  /**
   * The engine machine's path for an absolute host path (which need not exist
   * yet); a path outside every shared root is a clear error naming them.
   */
  guestPathOf(hostPath: string): string {
    const real = realPathAllowingMissing(path.resolve(hostPath));
    const i = this.roots.findIndex((root) => real === root || isInside(real, root));
    if (i < 0) {
      const shared = this.roots.length ? this.roots.join(", ") : "(none)";
      throw new MountInvalidError(
        `The bind mount source ${hostPath} is not in a folder shared with Hangar's engine machine (shared: ${shared}).`,
        `Move the files under one of those folders, or add a folder to ${SHARES_ENV} (a "${path.delimiter}"-separated list that replaces the default of your home and temporary folders) and restart the engine.`,
      );
    }
    const rel = path.relative(this.roots[i], real);
    return rel ? `${GUEST_HOST_DIR}/${i}/${rel.split(path.sep).join("/")}` : `${GUEST_HOST_DIR}/${i}`;
  }
}

function isInside(p: string, parent: string): boolean {
  const rel = path.relative(parent, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

function realDir(p: string): string | undefined {
  try {
    const real = realpathSync(p);
    return statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** realpath of the deepest existing ancestor, with the missing rest appended. */
function realPathAllowingMissing(p: string): string {
  const missing: string[] = [];
  let at = p;
  for (;;) {
    try {
      return path.join(realpathSync(at), ...missing.reverse());
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return p;
      missing.push(path.basename(at));
      at = parent;
    }
  }
}
