import * as vscode from "vscode";
import { loadVagrantfile } from "../../../core/vagrantfile/load-vagrantfile";
import { validationReport } from "../../../core/vagrantfile/validation-report";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { MACHINE_COMMANDS } from "./machine-operation";

/**
 * `hangar validate` of a Vagrantfile (the one given, the active editor's, the
 * only one, or the user's pick): the result as a message, the problems as
 * the editor's diagnostics (the Vagrantfile is opened, so its diagnostics
 * show in the Problems view). Returns the report `validate --json` prints.
 */
export const validateVagrantfile: HangarCommand = {
  id: "hangar.vagrantfile.validate",
  requiresTrust: MACHINE_COMMANDS,
  async run({ hangar }, arg?: unknown) {
    const file = await vagrantfileToValidate(hangar.machines.vagrantfiles.bind(hangar.machines), arg);
    if (!file) return undefined;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    const result = await loadVagrantfile(file, hangar.ruby, process.env, open?.getText());
    const report = validationReport(result);
    const label = vscode.workspace.asRelativePath(file);
    const errors = result.issues.filter((i) => i.severity === "error");
    const warnings = result.issues.length - errors.length;
    // Opening it runs the Vagrantfile diagnostics (on open and save) where they are not shown yet.
    if (!open && result.issues.length) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    if (errors.length) {
      const first = errors[0];
      void vscode.window
        .showErrorMessage(`${label} is not valid: ${first.line ? `line ${first.line}: ` : ""}${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`, "Show Problems")
        .then((c) => c && vscode.commands.executeCommand("workbench.actions.view.problems"));
    } else {
      void vscode.window.showInformationMessage(
        `${label} validated successfully: ${result.machines.map((m) => m.name).join(", ")}${warnings ? ` (${warnings} warning${warnings > 1 ? "s" : ""})` : ""}.`,
      );
    }
    hangar.log.info(`Validated ${label}: ${errors.length} error(s), ${warnings} warning(s).`);
    return report;
  },
};

async function vagrantfileToValidate(list: () => Promise<string[]>, arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === "object" && arg !== null && typeof (arg as { vagrantfile?: unknown }).vagrantfile === "string") return (arg as { vagrantfile: string }).vagrantfile;
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === "vagrantfile" && active.uri.scheme === "file") return active.uri.fsPath;
  const files = await list();
  if (!files.length) throw new HangarError("This workspace has no Vagrantfile.", "Create one (Hangar: Create Vagrantfile) first.");
  if (files.length === 1) return files[0];
  const pick = await vscode.window.showQuickPick(
    files.map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f })),
    { title: "Hangar: Validate Vagrantfile", placeHolder: "Choose a Vagrantfile" },
  );
  return pick?.file;
}
