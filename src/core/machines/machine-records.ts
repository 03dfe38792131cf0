import { promises as fs } from "node:fs";
import * as path from "node:path";
import { DaemonClient } from "../daemon/daemon-client";
import type { MachineInfo } from "../daemon/daemon-protocol";
import { writeFileAtomic } from "../util/atomic-file";
import type { BoundPort } from "../ports/port-relays";
import type { ProviderName } from "./machine-provider";

/** Vagrant's machine states. */
export type MachineState = "not_created" | "running" | "saved" | "poweroff" | "aborted";

export interface MachineStatus {
  name: string;
  state: MachineState;
  /** Absent for machines not created. */
  provider?: ProviderName;
  sshPort?: number;
  /** A running machine's forwarded ports as bound (the SSH endpoint's id is "ssh"). */
  ports?: BoundPort[];
  /** A running machine's addresses on private networks ("192.168.56.10/24"). */
  addresses?: string[];
}

/** What `.hangar/machines/<name>/machine.json` records (written atomically). */
export interface MachineRecord {
  box: string;
  boxVersion: string;
  boxDir: string;
  createdAt: string;
  /** What the last command left it as; "running" with no daemon entry means it died: aborted. */
  state: "running" | "saved" | "poweroff";
  /** `run: once` provisioners have run (Vagrant's first-up provisioning). */
  provisioned?: boolean;
  /** What runs it (machine-provider.ts); embedded when absent. A machine keeps its provider until destroyed. */
  provider?: ProviderName;
}

/** A created machine's state: the daemon knows what runs; a record left "running" without it died (aborted). */
export function machineState(record: Pick<MachineRecord, "state">, running: boolean): MachineState {
  if (running) return "running";
  return record.state === "running" ? "aborted" : record.state;
}

/**
 * The per-project state of a Vagrantfile's machines, in `.hangar/` beside it
 * (like `.vagrant/`): one folder per machine with its record, key, disk,
 * saved state and snapshots.
 */
export class MachineRecords {
  constructor(readonly projectDir: string) {}

  stateDir(name: string): string {
    return path.join(this.projectDir, ".hangar", "machines", name);
  }

  /** The machine's own SSH private key (its `.pub` beside it). */
  keyFile(name: string): string {
    return path.join(this.stateDir(name), "private_key");
  }

  /** Where `halt` keeps the guest's root file system changes. */
  diskDir(name: string): string {
    return path.join(this.stateDir(name), "disk");
  }

  /** A suspended machine's state, resumed by the next `up`. */
  savedStateFile(name: string): string {
    return path.join(this.stateDir(name), "saved.state");
  }

  /** The machine's key in the daemon and the global index: "<Vagrantfile folder>#<name>". */
  daemonKey(name: string): string {
    return `${this.projectDir}#${name}`;
  }

  async read(name: string): Promise<MachineRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.stateDir(name), "machine.json"), "utf8")) as MachineRecord;
    } catch {
      return undefined;
    }
  }

  async write(name: string, record: MachineRecord): Promise<void> {
    await fs.mkdir(this.stateDir(name), { recursive: true });
    await writeFileAtomic(path.join(this.stateDir(name), "machine.json"), JSON.stringify(record, null, 2) + "\n");
  }

  /** Forgets the machine was created, keeping its other files. */
  async remove(name: string): Promise<void> {
    await fs.rm(path.join(this.stateDir(name), "machine.json"), { force: true });
  }
}

/** The machine daemon and what runs in it; undefined when none runs and `start` is false. */
export async function runningMachines(hangarHome: string, start = false): Promise<{ client: DaemonClient; list: MachineInfo[] } | undefined> {
  try {
    const client = await DaemonClient.connect(hangarHome, { start });
    return { client, list: (await client.call("list", {})) as MachineInfo[] };
  } catch (err) {
    if (start) throw err;
    return undefined;
  }
}
