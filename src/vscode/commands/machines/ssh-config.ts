import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { mergeSshConfig, sshConfigBlock } from "../../../core/machines/ssh-config";
import { writeFileAtomic } from "../../../core/util/atomic-file";
import { machineCommand } from "./machine-command";

type Action = "show" | "copy" | "add";

/**
 * `hangar ssh-config` of one running machine: its OpenSSH `Host` block in an
 * editor, with Copy and "Add to ~/.ssh/config" — the latter only after a
 * modal confirmation (it edits a file of the user's that other tools read).
 * `{ action: "show" | "copy" | "add" }` skips the question (tests, scripts;
 * "add" still asks unless `confirm: false`). Returns the block.
 */
export const showSshConfig = machineCommand({
  id: "hangar.machine.sshConfig",
  verb: "be reached over SSH",
  allowed: (m) => m.state === "running",
  async run({ hangar }, target, args) {
    const options = (args.find((a) => typeof a === "object" && a !== null && "action" in a) ?? {}) as { action?: Action; confirm?: boolean };
    const block = sshConfigBlock(target.name, await hangar.machines.project(target.vagrantfile).sshTarget(target.name));
    let action = options.action;
    if (!action) {
      // ssh_config is a language where an extension (Remote - SSH) adds it; plain text elsewhere.
      const language = (await vscode.languages.getLanguages()).includes("ssh_config") ? "ssh_config" : "plaintext";
      const doc = await vscode.workspace.openTextDocument({ content: block, language });
      await vscode.window.showTextDocument(doc, { preview: true });
      const choice = await vscode.window.showInformationMessage(`SSH configuration of '${target.name}' (ssh -F FILE ${target.name}).`, "Copy", "Add to ~/.ssh/config…");
      action = choice === "Copy" ? "copy" : choice ? "add" : "show";
    }
    if (action === "copy") {
      await vscode.env.clipboard.writeText(block);
      void vscode.window.showInformationMessage(`Copied the SSH configuration of '${target.name}'.`);
    }
    if (action === "add") {
      const file = path.join(os.homedir(), ".ssh", "config");
      if (options.confirm !== false) {
        const answer = await vscode.window.showWarningMessage(
          `Add 'Host ${target.name}' to ${file}?`,
          {
            modal: true,
            detail: "A block marked as Hangar's is written (or replaced, when one for this machine is there); nothing else in the file changes. Its port changes when the machine starts again.",
          },
          "Add",
        );
        if (answer !== "Add") return block;
      }
      const existing = await fs.readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? "" : Promise.reject(err)));
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      // Through a symlinked config (dotfile managers), to the file it points at.
      const real = await fs.realpath(file).catch(() => file);
      await writeFileAtomic(real, mergeSshConfig(existing, `${target.name} (${target.vagrantfile})`, block), { mode: 0o600 });
      hangar.log.info(`Wrote Host ${target.name} to ${file}`);
      void vscode.window.showInformationMessage(`Added 'Host ${target.name}' to ${file}: ssh ${target.name} works now.`);
    }
    return block;
  },
});
