import * as vscode from "vscode";
import { pullBox } from "../../../core/boxes/box-registry";
import type { HangarCommand } from "../hangar-command";

/** Adds a box from an OCI registry (pushed with `hangar box push`), with the docker CLI's stored logins. */
export const pullBoxFromRegistry: HangarCommand = {
  id: "hangar.box.pull",
  async run({ hangar, trees, withProgress }, ref?: unknown, name?: unknown) {
    const reference =
      typeof ref === "string"
        ? ref
        : await vscode.window.showInputBox({
            title: "Add a box from a registry",
            prompt: "Registry reference, as host[:port]/path[:tag]",
            placeHolder: "localhost:5000/boxes/debian:1.0",
            validateInput: (v) => (/^[^/\s]+\/\S+$/.test(v.trim()) ? undefined : "host[:port]/path[:tag]"),
          });
    if (!reference) return undefined;
    const added = await withProgress({ title: `Hangar: adding box from ${reference.trim()}`, cancellable: true }, (progress) =>
      pullBox(hangar.hangarHome, reference.trim(), { ...(typeof name === "string" ? { name } : {}), onProgress: (message) => progress.report(message), signal: progress.signal }),
    );
    hangar.log.info(`Added box ${added.name} ${added.version} from ${added.shown} in ${added.dest}`);
    trees.boxes.refresh();
    return added;
  },
};
