import * as path from "node:path";
import * as vscode from "vscode";
import { MachineIndex } from "../../core/machines/machine-index";
import type { MachineStatus } from "../../core/machines/machine-records";
import { ProjectMachines } from "../../core/machines/project-machines";
import { errorMessage } from "../../core/util/errors";
import type { HangarContext } from "../hangar-context";
import { isTrusted, onDidGrantTrust } from "./workspace-trust";

/** A machine as the views and commands address it. */
export interface MachineRef {
  vagrantfile: string;
  name: string;
}

export interface MachineEntry extends MachineRef, MachineStatus {
  snapshots: Array<{ name: string; createdAt: string; bytes: number }>;
  /** A machine of a Vagrantfile outside the workspace (from the global index). */
  elsewhere?: boolean;
}

export interface ProjectEntry {
  vagrantfile: string;
  machines: MachineEntry[];
  /** The Vagrantfile could not be evaluated: its machines are unknown. */
  error?: string;
  /** Restricted Mode: the Vagrantfile was not evaluated, so its machines are unknown. */
  restricted?: boolean;
}

/**
 * The machines of every Vagrantfile in the workspace (multi-root too) and of
 * the global index, with change events. Changes are seen through file
 * watchers on the machines' state files (`.hangar/machines/<name>/machine.json`,
 * written by every lifecycle command, from VS Code or the CLI) and on
 * Vagrantfiles, debounced — never by polling. Watching starts on first use.
 */
export class WorkspaceMachines implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private watching = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly hangar: HangarContext) {
    // Trust granted: the views evaluate the Vagrantfiles now, without a reload.
    this.disposables.push(onDidGrantTrust(() => this.refresh()));
  }

  /** A ProjectMachines for a Vagrantfile, with the user's settings. */
  project(vagrantfile: string): ProjectMachines {
    const settings = vscode.workspace.getConfiguration("hangar");
    return new ProjectMachines(vagrantfile, this.hangar.hangarHome, this.hangar.ruby, process.env, {
      defaultMemoryMiB: settings.get<number>("machines.defaultMemory"),
      syncExcludes: settings.get<string[]>("sync.exclude"),
      sshPortBase: settings.get<number>("ssh.portBase"),
      syncSettleMs: settings.get<number>("sync.settleMs"),
      debianMirror: settings.get<string>("debianMirror") || undefined,
      defaultProvider: settings.get<string>("machines.provider") || undefined,
      qemuPath: settings.get<string>("qemu.path") || undefined,
    });
  }

  async vagrantfiles(): Promise<string[]> {
    this.watch();
    return (await this.hangar.projectFiles.find("Vagrantfile")).map((u) => u.fsPath);
  }

  /** Every workspace Vagrantfile with its machines' states and snapshots. */
  async projects(): Promise<ProjectEntry[]> {
    const files = await this.vagrantfiles();
    return Promise.all(files.map((f) => this.describe(f)));
  }

  private async describe(vagrantfile: string, elsewhere = false): Promise<ProjectEntry> {
    if (!isTrusted()) return { vagrantfile, machines: [], restricted: true };
    const project = this.project(vagrantfile);
    try {
      const statuses = await project.status();
      const machines = await Promise.all(
        statuses.map(async (s) => ({ ...s, vagrantfile, snapshots: s.state === "not_created" ? [] : await project.snapshots(s.name), ...(elsewhere ? { elsewhere } : {}) })),
      );
      return { vagrantfile, machines };
    } catch (err) {
      return { vagrantfile, machines: [], error: errorMessage(err) };
    }
  }

  /** Machines of the global index whose Vagrantfile is outside the workspace. */
  async elsewhere(): Promise<MachineEntry[]> {
    const inWorkspace = new Set((await this.vagrantfiles()).map((f) => path.dirname(f)));
    const index = await new MachineIndex(this.hangar.hangarHome).list().catch(() => []);
    return index.filter((e) => !inWorkspace.has(e.dir)).map((e) => ({ vagrantfile: path.join(e.dir, "Vagrantfile"), name: e.name, state: e.state, snapshots: [], elsewhere: true }));
  }

  /** Every machine the user could mean, for a quick pick. */
  async all(): Promise<MachineEntry[]> {
    return [...(await this.projects()).flatMap((p) => p.machines), ...(await this.elsewhere())];
  }

  /** Tells the views something changed (after a command; watchers call it too). */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.changed.fire(), 250);
  }

  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    for (const glob of ["**/.hangar/machines/*/machine.json", "**/.hangar/machines/*/snapshots/*.state", "**/Vagrantfile"]) {
      const w = vscode.workspace.createFileSystemWatcher(glob);
      w.onDidCreate(() => this.refresh());
      w.onDidChange(() => this.refresh());
      w.onDidDelete(() => this.refresh());
      this.disposables.push(w);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
