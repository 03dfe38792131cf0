import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ALWAYS_EXCLUDED, compileExcludes } from "../sync/sync-excludes";
import { packPaths, walkTree, type GuestOwner } from "../sync/tree-archive";
import type { SyncedFolder } from "../vagrantfile/machine-config";
import { HangarError } from "../util/errors";
import { shellQuote } from "../util/shell-quote";
import type { MachineSession } from "./machine-session";

/**
 * Puts an rsync-type synced folder's host content at its guest path when a
 * machine comes up: one tar stream over the machine's SSH session (files,
 * directories, symlinks, modes), honouring `rsync__exclude` and extra
 * excludes. `hangar rsync-auto` (FolderSync) follows later edits.
 */
export async function uploadFolder(folder: SyncedFolder, projectDir: string, session: MachineSession, extraExcludes: string[] = [], owner: GuestOwner = { uid: 0, gid: 0 }): Promise<number> {
  const root = path.resolve(projectDir, folder.hostPath);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat?.isDirectory()) throw new HangarError(`The synced folder ${folder.hostPath} (${root}) is not a folder on this computer.`);
  const excluded = compileExcludes([...ALWAYS_EXCLUDED, ...folder.exclude, ...extraExcludes]);
  const { archive, entries } = await packPaths(root, await walkTree(root, excluded), owner);
  const guest = shellQuote(folder.guestPath);
  const r = await session.run(`mkdir -p ${guest} && chown ${owner.uid}:${owner.gid} ${guest} && tar -x -C ${guest}`, { stdin: archive });
  if (r.code !== 0) throw new HangarError(`Copying ${folder.hostPath} to ${folder.guestPath} in the machine failed: ${r.stderr.trim()}`);
  return entries;
}

/** The numeric owner of a guest user (the machine's SSH user), for files Hangar puts in the guest for it. */
export async function guestOwner(session: MachineSession, user: string): Promise<GuestOwner> {
  if (user === "root") return { uid: 0, gid: 0 };
  const r = await session.run(`id -u ${shellQuote(user)} && id -g ${shellQuote(user)}`);
  const [uid, gid] = r.stdout.trim().split("\n").map(Number);
  if (r.code !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid))
    throw new HangarError(`The machine has no user '${user}' (${r.stderr.trim()}).`, "Set config.ssh.username to a user the box has.");
  return { uid, gid };
}
