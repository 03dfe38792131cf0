import { promises as fs } from "node:fs";
import * as path from "node:path";

/**
 * Finds the Vagrantfile for `startDir` the way Vagrant does: in that folder,
 * then each parent up to the root. `HANGAR_VAGRANTFILE` (like
 * VAGRANT_VAGRANTFILE) names a different file name to look for, or, when it
 * is a path with a folder part, that exact file.
 */
export async function findVagrantfile(startDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const override = env.HANGAR_VAGRANTFILE?.trim();
  if (override && (override.includes("/") || override.includes(path.sep))) {
    const file = path.resolve(startDir, override);
    return (await isFile(file)) ? file : undefined;
  }
  const name = override || "Vagrantfile";
  for (let dir = path.resolve(startDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (await isFile(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
