import * as path from "node:path";
import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";
import type { MachineEntry } from "../workspace/workspace-machines";

const ICON: Record<MachineEntry["state"], string> = { running: "$(vm-running)", saved: "$(debug-pause)", poweroff: "$(vm-outline)", not_created: "$(vm)", aborted: "$(warning)" };

/**
 * The active workspace's machine in the status bar: the primary machine of
 * the Vagrantfile nearest the active editor (or the first Vagrantfile).
 * Click for a quick pick of the actions its state allows. Filled in after
 * activation, off the activation path, and on every machines change.
 */
export class MachineStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("hangar.machine", vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private current?: MachineEntry;

  constructor(private readonly hangar: HangarContext) {
    this.item.name = "Hangar machine";
    this.item.command = "hangar.machine.statusActions";
    this.disposables.push(
      this.item,
      hangar.machines.onDidChange(() => void this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => void this.update()),
      vscode.commands.registerCommand("hangar.machine.statusActions", () => this.actions()),
    );
    // Evaluating Vagrantfiles starts Ruby: not during activation.
    const timer = setTimeout(() => void this.update(), 3000);
    this.disposables.push({ dispose: () => clearTimeout(timer) });
  }

  private async update(): Promise<void> {
    const files = await this.hangar.machines.vagrantfiles();
    if (!files.length) {
      this.item.hide();
      return;
    }
    const active = vscode.window.activeTextEditor?.document.uri.fsPath;
    const nearest = (active && files.filter((f) => active.startsWith(path.dirname(f) + path.sep)).sort((a, b) => b.length - a.length)[0]) || files[0];
    const project = (await this.hangar.machines.projects()).find((p) => p.vagrantfile === nearest);
    if (project?.restricted) {
      this.current = undefined;
      this.item.text = "$(workspace-untrusted) Hangar";
      this.item.tooltip = "Hangar: Restricted Mode — this workspace's Vagrantfiles are not evaluated until you trust it";
      this.item.show();
      return;
    }
    if (!project || project.error || !project.machines.length) {
      this.current = undefined;
      this.item.text = "$(error) Hangar";
      this.item.tooltip = project?.error ?? "No machines";
      this.item.show();
      return;
    }
    const configs = await this.hangar.machines
      .project(nearest)
      .configs()
      .catch(() => []);
    const primary = configs.find((c) => c.primary)?.name;
    this.current = project.machines.find((m) => m.name === primary) ?? project.machines[0];
    const others = project.machines.length - 1;
    this.item.text = `${ICON[this.current.state]} ${this.current.name}: ${this.current.state.replace("_", " ")}${others ? ` (+${others})` : ""}`;
    this.item.tooltip = `Hangar: ${vscode.workspace.asRelativePath(nearest)} — click for actions`;
    this.item.show();
  }

  private async actions(): Promise<void> {
    const m = this.current;
    if (!m) return void vscode.commands.executeCommand("workbench.view.extension.hangar");
    const byState: Record<MachineEntry["state"], Array<[string, string]>> = {
      running: [
        ["$(terminal) Open Terminal", "hangar.machine.openTerminal"],
        ["$(debug-stop) Halt", "hangar.machine.halt"],
        ["$(debug-pause) Suspend", "hangar.machine.suspend"],
        ["$(debug-restart) Reload", "hangar.machine.reload"],
        ["$(tools) Provision", "hangar.machine.provision"],
        ["$(copy) Copy SSH Command", "hangar.machine.copySshCommand"],
      ],
      saved: [
        ["$(debug-continue) Resume", "hangar.machine.resume"],
        ["$(trash) Destroy", "hangar.machine.destroy"],
      ],
      poweroff: [
        ["$(play) Up", "hangar.machine.up"],
        ["$(trash) Destroy", "hangar.machine.destroy"],
      ],
      aborted: [
        ["$(play) Up", "hangar.machine.up"],
        ["$(trash) Destroy", "hangar.machine.destroy"],
      ],
      not_created: [["$(play) Up", "hangar.machine.up"]],
    };
    const pick = await vscode.window.showQuickPick(
      [...byState[m.state], ["$(go-to-file) Open Vagrantfile", "hangar.machine.openVagrantfile"], ["$(list-tree) Show Machines", "workbench.view.extension.hangar"]].map(([label, command]) => ({
        label,
        command,
      })),
      { title: `Hangar: ${m.name} (${m.state.replace("_", " ")})` },
    );
    if (pick) await vscode.commands.executeCommand(pick.command, { vagrantfile: m.vagrantfile, name: m.name });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
