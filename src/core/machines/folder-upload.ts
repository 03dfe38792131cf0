import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ALWAYS_EXCLUDED, compileExcludes } from "../sync/sync-excludes";
import { packPaths, walkTree } from "../sync/tree-archive";
import type { SyncedFolder } from "../vagrantfile/machine-config";
import { HangarError } from "../util/errors";
import { shellQuote } from "./machine-runner";
import type { MachineSession } from "./machine-session";

/**
 * Puts an rsync-type synced folder's host content at its guest path when a
 * machine comes up: one tar stream over the machine's SSH session (files,
 * directories, symlinks, modes), honouring `rsync__exclude` and extra
 * excludes. `hangar rsync-auto` (FolderSync) follows later edits.
 */
export async function uploadFolder(folder: SyncedFolder, projectDir: string, session: MachineSession, extraExcludes: string[] = []): Promise<number> {
  const root = path.resolve(projectDir, folder.hostPath);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new HangarError(`The synced folder ${folder.hostPath} (${root}) is not a folder on this computer.`);
  const excluded = compileExcludes([...ALWAYS_EXCLUDED, ...folder.exclude, ...extraExcludes]);
  const { archive, entries } = await packPaths(root, await walkTree(root, excluded));
  const guest = shellQuote(folder.guestPath);
  const r = await session.run(`mkdir -p ${guest} && tar -x -C ${guest}`, { stdin: archive });
  if (r.code !== 0) throw new HangarError(`Copying ${folder.hostPath} to ${folder.guestPath} in the machine failed: ${r.stderr.trim()}`);
  return entries;
}
