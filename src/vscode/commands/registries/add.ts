import * as vscode from "vscode";
import type { HangarCommand } from "../hangar-command";

/** Adds a registry to the `hangar.registries` setting (the Registries view lists it). */
export const addRegistry: HangarCommand = {
  id: "hangar.registries.add",
  async run({ trees }, domain?: unknown) {
    const value =
      typeof domain === "string"
        ? domain
        : await vscode.window.showInputBox({
            title: "Add a registry",
            prompt: "The registry's host[:port] (log in with `docker login` when it needs credentials)",
            placeHolder: "localhost:5000",
            validateInput: (v) => (/^[\w.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(v.trim()) ? undefined : "host[:port]"),
          });
    if (!value) return undefined;
    const config = vscode.workspace.getConfiguration("hangar");
    const listed = config.get<string[]>("registries", []);
    if (!listed.includes(value.trim())) await config.update("registries", [...listed, value.trim()], vscode.ConfigurationTarget.Global);
    trees.registries.refresh();
    return value.trim();
  },
};
