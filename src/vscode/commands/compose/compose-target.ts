import { existsSync } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { ComposeProject } from "../../../core/compose/compose-projects";
import type { ComposeTarget } from "../../../core/compose/compose-run";
import { CancelledError, HangarError } from "../../../core/util/errors";
import { composeFilePatterns, isComposeDocument, isComposeFile } from "../../language/compose/compose-documents";

export interface ResolvedComposeTarget {
  target: ComposeTarget;
  /** For titles: the file's workspace-relative path, or "project NAME". */
  label: string;
}

/**
 * What a Compose command acts on: a file (Explorer, editor title, lens: a
 * Uri; several selected in the Explorer: all of them), a project node of the
 * Containers view, a file path (tests, other extensions), else the active
 * Compose editor, else a pick among the workspace's Compose files.
 */
export async function composeTarget(arg: unknown, selected: unknown, placeHolder: string, hangarHome: () => string): Promise<ResolvedComposeTarget> {
  const project = (arg as { project?: ComposeProject } | undefined)?.project;
  if (project && typeof project.name === "string") return projectTarget(project, hangarHome);
  if (arg instanceof vscode.Uri) {
    const uris = Array.isArray(selected) && selected.length > 1 && selected.every((u) => u instanceof vscode.Uri) ? (selected as vscode.Uri[]) : [arg];
    return fileTarget(uris);
  }
  if (typeof arg === "string" && arg) return fileTarget([vscode.Uri.file(arg)]);
  const active = vscode.window.activeTextEditor?.document;
  if (active && active.uri.scheme === "file" && isComposeDocument(active)) return fileTarget([active.uri]);
  return fileTarget([await pickComposeFile(placeHolder)]);
}

function fileTarget(uris: vscode.Uri[]): ResolvedComposeTarget {
  for (const uri of uris) {
    if (uri.scheme !== "file") throw new HangarError(`${uri.toString()} is not a file on this computer.`, "Compose runs files on disk: save it to a folder first.");
    if (!existsSync(uri.fsPath)) throw new HangarError(`${uri.fsPath} does not exist.`, "Save the Compose file first, or pick another.");
  }
  const files = uris.map((u) => u.fsPath);
  return { target: { cwd: path.dirname(files[0]), files }, label: files.map((f) => vscode.workspace.asRelativePath(f, true)).join(", ") };
}

/**
 * A project found by its containers' labels. Labels are container data (an
 * image can carry them too), so the files they name are used only when they
 * are Compose files inside this workspace; otherwise the project is named
 * (-p) and no file is read.
 */
function projectTarget(project: ComposeProject, hangarHome: () => string): ResolvedComposeTarget {
  const inWorkspace = (p: string): boolean => vscode.workspace.getWorkspaceFolder(vscode.Uri.file(p)) !== undefined;
  const usable = project.configFiles.length > 0 && project.configFiles.every((f) => path.isAbsolute(f) && inWorkspace(f) && isComposeFile(f) && existsSync(f));
  if (usable) {
    const cwd = project.workingDir && inWorkspace(project.workingDir) && existsSync(project.workingDir) ? project.workingDir : path.dirname(project.configFiles[0]);
    return { target: { cwd, files: project.configFiles, project: project.name }, label: `project ${project.name}` };
  }
  // No compose file of the workspace: run in HANGAR_HOME (Hangar's own 0700 folder, with no compose file or .env), so Compose acts by the project name alone.
  return { target: { cwd: hangarHome(), files: [], project: project.name }, label: `project ${project.name}` };
}

async function pickComposeFile(placeHolder: string): Promise<vscode.Uri> {
  const include = `**/{${composeFilePatterns()
    .map((p) => p.replace(/[{},]/g, ""))
    .filter(Boolean)
    .join(",")}}`;
  const found = (await vscode.workspace.findFiles(include, "**/node_modules/**", 200)).filter((u) => isComposeFile(u.fsPath));
  if (!found.length) {
    throw new HangarError("This workspace has no Compose file (compose.yaml, docker-compose.yml, … or the names in hangar.compose.filePatterns).", "Create one, or open the folder that has it.");
  }
  if (found.length === 1) return found[0];
  const choice = await vscode.window.showQuickPick(
    found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, true), uri })).sort((a, b) => a.label.localeCompare(b.label)),
    { placeHolder },
  );
  if (!choice) throw new CancelledError("No Compose file chosen.");
  return choice.uri;
}
