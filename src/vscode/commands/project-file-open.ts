import * as vscode from "vscode";
import type { ProjectFileName } from "../workspace/project-files";
import type { CommandEnv } from "./hangar-command";

/** Opens the workspace's Vagrantfile/Dockerfile; with several, asks which; with none, offers to create one. */
export async function openProjectFile({ hangar }: CommandEnv, name: ProjectFileName, createCommand: string): Promise<vscode.Uri | undefined> {
  const files = await hangar.projectFiles.find(name);
  if (!files.length) {
    const choice = await vscode.window.showInformationMessage(`This workspace has no ${name}.`, `Create ${name}`);
    if (choice) return vscode.commands.executeCommand<vscode.Uri | undefined>(createCommand);
    return undefined;
  }
  const uri = files.length === 1
    ? files[0]
    : (await vscode.window.showQuickPick(files.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })), { placeHolder: `Which ${name}?` }))?.uri;
  if (uri) await vscode.window.showTextDocument(uri);
  return uri;
}
