import * as os from "node:os";
import * as path from "node:path";

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
