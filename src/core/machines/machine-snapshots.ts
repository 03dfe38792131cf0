import { promises as fs } from "node:fs";
import * as path from "node:path";
import { CancelledError, HangarError } from "../util/errors";
import { CowDisk } from "../emulator/cow-disk";
import { ROOT_DISK_OVERLAY, snapshotDisk } from "./machine-runner";
import { exists } from "../util/path-exists";
import type { Progress } from "../util/progress";
import { runningMachines } from "./machine-records";
import type { ProjectMachines } from "./project-machines";
import { upParams } from "./up-params";
import { accelFile, qemuSnapshotDisk } from "./qemu/qemu-runner";

/**
 * A machine's snapshots: whole saved guest states (memory and devices, as
 * VirtualBox snapshots are), one `<name>.state` file each in the machine's
 * `snapshots/` folder; their modification times order them.
 */
export class MachineSnapshots {
  constructor(private readonly project: ProjectMachines) {}

  private dir(name: string): string {
    return path.join(this.project.records.stateDir(name), "snapshots");
  }

  private file(name: string, snapshot: string): string {
    return path.join(this.dir(name), `${snapshot}.state`);
  }

  /** Snapshot names, oldest first. */
  async list(name: string): Promise<Array<{ name: string; createdAt: string; bytes: number }>> {
    const dir = this.dir(name);
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".state"));
    const out = await Promise.all(files.map(async (f) => ({ name: f.slice(0, -".state".length), st: await fs.stat(path.join(dir, f)) })));
    return out.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs).map((x) => ({ name: x.name, createdAt: x.st.mtime.toISOString(), bytes: x.st.size }));
  }

  /**
   * Saves the running machine's whole state as a named snapshot; the machine
   * keeps running. `signal`: a save is not stopped half-way (the state is
   * written in one go), so a cancel before it starts saves nothing and one
   * during it deletes the snapshot once written.
   */
  async save(name: string, snapshot: string, signal?: AbortSignal): Promise<void> {
    if (!/^[\w.-]+$/.test(snapshot)) throw new HangarError(`Snapshot names use letters, digits, '.', '_' and '-' ('${snapshot}' does not).`);
    const key = this.project.records.daemonKey(name);
    const daemon = await runningMachines(this.project.hangarHome);
    try {
      if (!daemon?.list.some((i) => i.key === key)) throw new HangarError(`Machine '${name}' is not running; start it to take a snapshot.`);
      const cancelled = (): CancelledError => new CancelledError(`Snapshot '${snapshot}' of '${name}' was cancelled: no snapshot was kept; the machine is still running.`);
      if (signal?.aborted) throw cancelled();
      await fs.mkdir(this.dir(name), { recursive: true });
      await daemon.client.call("save", { key, stateFile: this.file(name, snapshot) });
      if (signal?.aborted) {
        await fs.rm(this.file(name, snapshot), { force: true });
        throw cancelled();
      }
    } finally {
      daemon?.client.close();
    }
  }

  /** Brings the machine back to a snapshot (it runs afterwards, as with Vagrant); `signal` cancels until the machine is stopped for it. */
  async restore(name: string, snapshot: string, progress: Progress = () => undefined, signal?: AbortSignal): Promise<void> {
    const file = this.file(name, snapshot);
    if (!(await exists(file))) throw new HangarError(`Machine '${name}' has no snapshot '${snapshot}' (it has: ${(await this.list(name)).map((s) => s.name).join(", ") || "none"}).`);
    const { records } = this.project;
    const rec = await records.read(name);
    if (!rec) throw new HangarError(`Machine '${name}' is not created.`);
    const [m] = await this.project.select([name]);
    // Before anything stops: a synced folder that went missing fails here.
    const params = await upParams(m, rec.boxDir, this.project, { resumeFrom: file, ...(rec.provider ? { provider: rec.provider } : {}) });
    if (signal?.aborted) throw new CancelledError(`Restoring '${name}' to snapshot '${snapshot}' was cancelled before it began: the machine is as it was.`);
    const daemon = (await runningMachines(this.project.hangarHome, true))!;
    try {
      if (daemon.list.some((i) => i.key === params.key)) await daemon.client.call("halt", { key: params.key });
      // A root disk goes back to the snapshot's copy, taken at the same instant as its state.
      if (await exists(CowDisk.files(snapshotDisk(file)).map)) await CowDisk.copyOverlay(snapshotDisk(file), path.join(records.diskDir(name), ROOT_DISK_OVERLAY));
      await records.write(name, { ...rec, state: "running" });
      await daemon.client.call("up", params, progress);
    } finally {
      daemon.client.close();
    }
  }

  async delete(name: string, snapshot: string): Promise<void> {
    const file = this.file(name, snapshot);
    if (!(await exists(file))) throw new HangarError(`Machine '${name}' has no snapshot '${snapshot}'.`);
    await fs.rm(file);
    await CowDisk.removeOverlay(snapshotDisk(file));
    await fs.rm(qemuSnapshotDisk(file), { force: true });
    await fs.rm(accelFile(file), { force: true });
  }
}
