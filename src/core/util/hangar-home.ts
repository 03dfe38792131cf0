import { mkdirSync, statSync, chmodSync, type Stats } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HangarError } from "./errors";

/**
 * Global state folder (boxes, machine index, image store): an explicit
 * setting wins, then `HANGAR_HOME`, then `~/.hangar`.
 */
export function resolveHangarHome(setting?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = setting?.trim() || env.HANGAR_HOME?.trim();
  if (chosen) return path.resolve(expandTilde(chosen));
  return path.join(os.homedir(), ".hangar");
}

function expandTilde(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * HANGAR_HOME belongs to another user: whoever owns it could replace the
 * machine daemon's or the engine's socket, boxes or saved states.
 */
export class ForeignHangarHomeError extends HangarError {
  constructor(
    readonly home: string,
    readonly ownerUid: number,
    readonly uid: number,
  ) {
    super(
      `Hangar's folder ${home} belongs to another user (uid ${ownerUid}; you are uid ${uid}), so Hangar will not use it: that user could control your machines and containers.`,
      `Point HANGAR_HOME (or the hangar.home setting) at a folder of your own, or remove ${home} so Hangar creates it again.`,
    );
  }
}

/** HANGAR_HOME lets other users write into it (replace sockets, boxes, states). */
export class UnsafeHangarHomeError extends HangarError {
  constructor(
    readonly home: string,
    readonly mode: number,
  ) {
    super(
      `Hangar's folder ${home} can be written by ${mode & 0o002 ? "every user" : "its group"} (mode ${(mode & 0o7777).toString(8).padStart(4, "0")}), so Hangar will not use it.`,
      `Make it private with \`chmod 700 ${home}\`, or point HANGAR_HOME at another folder.`,
    );
  }
}

/** HANGAR_HOME names something that is not a folder. */
export class HangarHomeNotFolderError extends HangarError {
  constructor(readonly home: string) {
    super(`Hangar's folder ${home} exists and is not a folder.`, "Move that file away, or point HANGAR_HOME at another folder.");
  }
}

/**
 * The one gate every entry point (CLI verbs, the machine daemon, the engine
 * process, the extension) passes before using HANGAR_HOME: creates it 0700
 * when missing, and refuses one owned by another user or writable by others.
 * An existing private home is left exactly as it is. Synchronous and cheap
 * (one stat) so it can guard every use, not only the first.
 */
export function ensureHangarHome(home: string): string {
  let st = statOrUndefined(home);
  if (!st) {
    // Parents as the user's umask makes them; the home itself private whatever the umask
    // (mkdir's mode is masked, so it is never more than 0700; chmod restores owner bits a strict umask took away).
    mkdirSync(path.dirname(home), { recursive: true });
    try {
      mkdirSync(home, { mode: 0o700 });
      chmodSync(home, 0o700);
    } catch (err) {
      // Created by a concurrent Hangar process meanwhile: checked below like any existing home.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    st = statSync(home);
  }
  checkHangarHome(home, st);
  return home;
}

/** The checks of ensureHangarHome on an existing home, without creating one (a missing home passes). */
export function checkHangarHome(home: string, st: Stats | undefined = statOrUndefined(home)): void {
  if (!st) return;
  if (!st.isDirectory()) throw new HangarHomeNotFolderError(home);
  // Windows has no owners or mode bits to compare.
  if (process.platform === "win32" || typeof process.getuid !== "function") return;
  const uid = process.getuid();
  if (st.uid !== uid) throw new ForeignHangarHomeError(home, st.uid, uid);
  if (st.mode & 0o022) throw new UnsafeHangarHomeError(home, st.mode);
}

/** resolveHangarHome, then ensureHangarHome: what an entry point calls to get a home it may use. */
export function openHangarHome(setting?: string, env: NodeJS.ProcessEnv = process.env): string {
  return ensureHangarHome(resolveHangarHome(setting, env));
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
