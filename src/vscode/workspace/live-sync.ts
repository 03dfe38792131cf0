import * as vscode from "vscode";
import { errorMessage } from "../../core/util/errors";
import type { HangarContext } from "../hangar-context";

/**
 * Keeps the rsync-type synced folders of this workspace's running machines
 * following the host while VS Code is open (Vagrant's rsync-auto, built in):
 * started when a machine is seen running, stopped when it is not. The default
 * synced folders need nothing: they are the host folders themselves (9p).
 */
export class LiveSync implements vscode.Disposable {
  private readonly active = new Map<string, Promise<{ stop(): Promise<void> } | undefined>>();
  private readonly disposables: vscode.Disposable[] = [];
  private checking = false;

  constructor(private readonly hangar: HangarContext) {
    this.disposables.push(
      hangar.machines.onDidChange(() => void this.check()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration("hangar.sync.autoRsync") && void this.check()),
    );
    // Like the status bar: after activation, not during it.
    const timer = setTimeout(() => void this.check(), 3000);
    this.disposables.push({ dispose: () => clearTimeout(timer) });
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const running = new Set<string>();
      // hangar.sync.autoRsync off: nothing is followed (and what was is stopped below); `rsync` still copies on demand.
      const follow = vscode.workspace.getConfiguration("hangar").get<boolean>("sync.autoRsync", true);
      for (const project of follow ? await this.hangar.machines.projects() : []) {
        const p = this.hangar.machines.project(project.vagrantfile);
        const configs = await p.configs().catch(() => []);
        for (const m of project.machines.filter((x) => x.state === "running")) {
          const config = configs.find((c) => c.name === m.name);
          if (!config?.syncedFolders.some((f) => !f.disabled && f.type === "rsync")) continue;
          const key = `${project.vagrantfile}#${m.name}`;
          running.add(key);
          if (this.active.has(key)) continue;
          this.hangar.log.info(`${m.name}: following rsync-type synced folders`);
          this.active.set(
            key,
            p
              .syncFolders(m.name, {
                follow: true,
                onBatch: (guest, b) => this.hangar.log.debug(`${m.name}: ${guest}: ${b.written} written, ${b.deleted} deleted (${b.latencyMs} ms)`),
                onError: (err) => this.hangar.log.warn(`${m.name}: sync: ${err.message}`),
              })
              .catch((err: unknown) => {
                this.hangar.log.error(`${m.name}: starting the folder sync failed: ${errorMessage(err)}`);
                this.active.delete(key);
                return undefined;
              }),
          );
        }
      }
      for (const [key, sync] of this.active) {
        if (running.has(key)) continue;
        this.active.delete(key);
        void sync.then((s) => s?.stop());
      }
    } finally {
      this.checking = false;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const s of this.active.values()) void s.then((x) => x?.stop());
    this.active.clear();
  }
}
