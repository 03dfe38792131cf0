import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { MachineInfo } from "../daemon/daemon-protocol";
import { writeFileAtomic } from "../util/atomic-file";
import { MachineRecords, machineState, runningMachines, type MachineState } from "./machine-records";

interface IndexEntry {
  dir: string;
  name: string;
  box: string;
  updatedAt: string;
}

/**
 * The global machine index (HANGAR_HOME/machine-index.json), like Vagrant's
 * for `global-status`: every machine created anywhere, by project folder.
 * Entries whose project state is gone are pruned when listed.
 */
export class MachineIndex {
  private readonly file: string;

  constructor(private readonly hangarHome: string) {
    this.file = path.join(hangarHome, "machine-index.json");
  }

  private async read(): Promise<Record<string, IndexEntry>> {
    try {
      return JSON.parse(await fs.readFile(this.file, "utf8")) as Record<string, IndexEntry>;
    } catch {
      return {};
    }
  }

  private async write(entries: Record<string, IndexEntry>): Promise<void> {
    await fs.mkdir(this.hangarHome, { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(entries, null, 2) + "\n");
  }

  async add(dir: string, name: string, box: string): Promise<void> {
    const entries = await this.read();
    entries[`${dir}#${name}`] = { dir, name, box, updatedAt: new Date().toISOString() };
    await this.write(entries);
  }

  async remove(dir: string, name: string): Promise<void> {
    const entries = await this.read();
    delete entries[`${dir}#${name}`];
    await this.write(entries);
  }

  /** Every indexed machine with its state, read from its project's .hangar and the daemon (no Vagrantfile evaluation). */
  async list(): Promise<Array<IndexEntry & { state: MachineState }>> {
    const entries = await this.read();
    const daemon = await runningMachines(this.hangarHome);
    daemon?.client.close();
    // No daemon: nothing is running.
    const live: MachineInfo[] = daemon?.list ?? [];
    const out: Array<IndexEntry & { state: MachineState }> = [];
    let pruned = false;
    for (const [key, e] of Object.entries(entries)) {
      const rec = await new MachineRecords(e.dir).read(e.name);
      if (!rec) {
        delete entries[key];
        pruned = true;
        continue;
      }
      out.push({
        ...e,
        state: machineState(
          rec,
          live.some((l) => l.key === key),
        ),
      });
    }
    if (pruned) await this.write(entries);
    return out.sort((a, b) => a.dir.localeCompare(b.dir) || a.name.localeCompare(b.name));
  }
}
