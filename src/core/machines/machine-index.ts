import { promises as fs } from "node:fs";
import * as path from "node:path";
import { DaemonClient } from "../daemon/daemon-client";
import type { MachineInfo } from "../daemon/daemon-protocol";
import { writeFileAtomic } from "../util/atomic-file";
import type { MachineState } from "./project-machines";

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
    let live: MachineInfo[] = [];
    try {
      const client = await DaemonClient.connect(this.hangarHome, { start: false });
      live = (await client.call("list", {})) as MachineInfo[];
      client.close();
    } catch {
      // No daemon: nothing is running.
    }
    const out: Array<IndexEntry & { state: MachineState }> = [];
    let pruned = false;
    for (const [key, e] of Object.entries(entries)) {
      const rec = await fs.readFile(path.join(e.dir, ".hangar", "machines", e.name, "machine.json"), "utf8").then((t) => JSON.parse(t) as { state: string }, () => undefined);
      if (!rec) {
        delete entries[key];
        pruned = true;
        continue;
      }
      const state: MachineState = live.some((l) => l.key === key) ? "running" : rec.state === "running" ? "aborted" : (rec.state as MachineState);
      out.push({ ...e, state });
    }
    if (pruned) await this.write(entries);
    return out.sort((a, b) => a.dir.localeCompare(b.dir) || a.name.localeCompare(b.name));
  }
}
