import * as path from "node:path";
import { FolderSync, type SyncBatch } from "../sync/folder-sync";
import { HangarError } from "../util/errors";
import type { MachineConfig, SyncedFolder } from "../vagrantfile/machine-config";
import { guestOwner, uploadFolder } from "./folder-upload";
import { MachineSession } from "./machine-session";
import type { ProjectMachines } from "./project-machines";

/** A machine's rsync-type synced folders: copies, as with Vagrant (the others are the host folder itself, over 9p). */
export function rsyncFolders(m: MachineConfig): SyncedFolder[] {
  return m.syncedFolders.filter((f) => !f.disabled && f.type === "rsync");
}

/**
 * `rsync` / `rsync-auto`: copies the machine's rsync-type synced folders
 * into it now, then (with `follow`) keeps following host changes until the
 * returned `stop`. Returns the folders synced.
 */
export async function syncFolders(
  project: ProjectMachines,
  name: string,
  o: { follow?: boolean; onBatch?(folder: string, batch: SyncBatch): void; onError?(err: Error): void } = {},
): Promise<{ folders: string[]; stop(): Promise<void> }> {
  const [m] = await project.select([name]);
  const folders = rsyncFolders(m);
  if (!folders.length)
    throw new HangarError(
      `Machine '${name}' has no rsync-type synced folder (its other synced folders are the host folders themselves and need no syncing).`,
      'Use config.vm.synced_folder ".", "/vagrant", type: "rsync" for a copy.',
    );
  const target = await project.sshTarget(name);
  const session = await MachineSession.open(target.port, target.keyFile);
  const syncs: FolderSync[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(syncs.map((s) => s.stop()));
    session.close();
  };
  try {
    const owner = await guestOwner(session, target.user);
    for (const f of folders) {
      await uploadFolder(f, project.dir, session, project.options.syncExcludes ?? [], owner);
      if (!o.follow) continue;
      const sync = new FolderSync(session, {
        hostPath: path.resolve(project.dir, f.hostPath),
        guestPath: f.guestPath,
        excludes: [...f.exclude, ...(project.options.syncExcludes ?? [])],
        owner,
        onBatch: (b) => o.onBatch?.(f.guestPath, b),
        onError: o.onError,
        ...(project.options.syncSettleMs !== undefined ? { settleMs: project.options.syncSettleMs } : {}),
      });
      await sync.start();
      syncs.push(sync);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  if (!o.follow) await stop();
  return { folders: folders.map((f) => `${f.hostPath} → ${f.guestPath}`), stop };
}
