import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeBoxFile } from "../boxes/box-archive";
import { CowDisk } from "../emulator/cow-disk";
import { writeFileAtomic } from "../util/atomic-file";
import { snapshotDisk } from "./machine-runner";
import { EmbeddedBox } from "../boxes/embedded-box";
import { product } from "../product";
import { CancelledError, HangarError } from "../util/errors";
import { runningMachines } from "./machine-records";
import { MachineSession } from "./machine-session";
import type { ProjectMachines } from "./project-machines";
import { memoryMiB } from "./up-params";

/**
 * `box package`: a .box of the machine as it is now — the box's files plus
 * the machine's running state as the new box's booted state, so machines
 * made from it start provisioned. The box's bootstrap key is put back into
 * the guest first, so new machines can log in and install their own.
 */
export async function packageMachine(project: ProjectMachines, name: string, out: string, signal?: AbortSignal): Promise<void> {
  // Cancel stops before the next step; the machine runs on and no box file is written (the bootstrap key, once added, stays: packaging adds it anyway).
  const checkCancelled = (): void => {
    if (signal?.aborted) throw new CancelledError(`Packaging '${name}' was cancelled: no box file was written; the machine is still running.`);
  };
  const { records } = project;
  const target = await project.sshTarget(name);
  const rec = await records.read(name);
  if (!rec) throw new HangarError(`Machine '${name}' is not created.`);
  const box = await EmbeddedBox.open(rec.boxDir);
  const bootstrapPub = /hangar\.key=(\S+)/.exec(box.metadata.cmdline)?.[1];
  if (!bootstrapPub) throw new HangarError(`The box at ${box.dir} has no bootstrap key on its command line; it cannot be repackaged.`);
  checkCancelled();
  const session = await MachineSession.open(target.port, target.keyFile);
  try {
    const r = await session.run(`echo ${bootstrapPub} | base64 -d >> /root/.ssh/authorized_keys && sync`);
    if (r.code !== 0) throw new HangarError(`Preparing machine '${name}' for packaging failed: ${r.stderr.trim()}`);
  } finally {
    session.close();
  }
  const [m] = await project.select([name]);
  const staging = path.join(records.stateDir(name), "package");
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  try {
    const stateName = path.basename(box.bootedStateFile(memoryMiB(m, project.options, box.metadata.defaultMemoryMiB), product.v86Version));
    const daemon = (await runningMachines(project.hangarHome))!;
    try {
      // Uncompressed, as every box's booted state is.
      await daemon.client.call("save", { key: records.daemonKey(name), stateFile: path.join(staging, stateName), compress: false });
    } finally {
      daemon.client.close();
    }
    checkCancelled();
    const files = ["metadata.json", box.metadata.kernel, box.metadata.initrd, box.metadata.bios, box.metadata.vgaBios, box.metadata.bootstrapKey];
    for (const f of files) await fs.copyFile(path.join(box.dir, f), path.join(staging, f));
    if (box.disk) files.push(...(await packageRootDisk(box, staging, stateName, m.primaryDiskBytes ?? box.disk.sizeBytes)));
    checkCancelled();
    try {
      await writeBoxFile(staging, [...files, stateName], path.resolve(project.dir, out), signal);
    } catch (err) {
      checkCancelled();
      throw err;
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/**
 * A machine whose root is a disk: the new box's disk.img is the box's image
 * under the machine's overlay as saved with the state (flattened, sparse),
 * and its booted state's overlay is empty (that disk holds everything).
 * Returns the files it added to `staging`.
 */
async function packageRootDisk(box: EmbeddedBox, staging: string, stateName: string, sizeBytes: number): Promise<string[]> {
  const saved = snapshotDisk(path.join(staging, stateName));
  const disk = path.join(staging, "disk.img");
  await CowDisk.flatten(box.disk!.file, saved, sizeBytes, disk);
  await CowDisk.removeOverlay(saved);
  new CowDisk(disk, saved, sizeBytes).close();
  const metadataFile = path.join(staging, "metadata.json");
  const metadata = JSON.parse(await fs.readFile(metadataFile, "utf8")) as Record<string, unknown>;
  await writeFileAtomic(metadataFile, JSON.stringify({ ...metadata, disk: "disk.img", diskBytes: sizeBytes }, null, 2) + "\n");
  const overlay = CowDisk.files(saved);
  return ["disk.img", path.basename(overlay.data), path.basename(overlay.map)];
}
