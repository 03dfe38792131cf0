import * as path from "node:path";
import * as vscode from "vscode";
import { writeFileAtomic } from "../../core/util/atomic-file";
import { FileExistsError } from "../../core/util/errors";
import type { ProjectFileName } from "../workspace/project-files";
import type { CommandEnv } from "./hangar-command";

/**
 * Creates `fileName` from `content` at the root of a workspace folder the user
 * picks (the only one, if just one) and opens it. An existing file is opened,
 * never overwritten. Returns the file's URI, or undefined when cancelled.
 */
export async function createProjectFile(fileName: string, content: string): Promise<vscode.Uri | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) throw new Error(`Open a folder first: the ${fileName} is created at its root.`);
  const folder = folders.length === 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: `Folder to create the ${fileName} in` });
  if (!folder) return undefined;
  if (folder.uri.scheme !== "file") throw new Error(`${folder.name} is not on this computer's disk (${folder.uri.scheme}:); Hangar can create a ${fileName} only in a local folder.`);
  const file = path.join(folder.uri.fsPath, fileName);
  try {
    await writeFileAtomic(file, content, { exclusive: true });
  } catch (err) {
    if (!(err instanceof FileExistsError)) throw err;
    void vscode.window.showInformationMessage(`${fileName} already exists in ${folder.name}; opened it.`);
  }
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri);
  return uri;
}

/** Opens the workspace's Vagrantfile/Dockerfile; with several, asks which; with none, offers to create one. */
export async function openProjectFile({ hangar }: CommandEnv, name: ProjectFileName, createCommand: string): Promise<vscode.Uri | undefined> {
  const files = await hangar.projectFiles.find(name);
  if (!files.length) {
    const choice = await vscode.window.showInformationMessage(`This workspace has no ${name}.`, `Create ${name}`);
    if (choice) return vscode.commands.executeCommand<vscode.Uri | undefined>(createCommand);
    return undefined;
  }
  const uri =
    files.length === 1
      ? files[0]
      : (
          await vscode.window.showQuickPick(
            files.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
            { placeHolder: `Which ${name}?` },
          )
        )?.uri;
  if (uri) await vscode.window.showTextDocument(uri);
  return uri;
}
