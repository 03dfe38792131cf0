import * as vscode from "vscode";
import { buildDefaultBox, DEFAULT_BOX_NAME } from "../../../core/boxes/default-box/default-box-builder";
import type { HangarCommand } from "../hangar-command";

/**
 * Builds the default box from Debian packages with a cancellable progress
 * notification that shows the download and build fractions. The Debian
 * mirror comes from `hangar.debianMirror`, else HANGAR_DEBIAN_MIRROR, else
 * this computer's apt configuration.
 */
export const buildBox: HangarCommand = {
  id: "hangar.box.build",
  async run({ hangar, trees }) {
    const mirror = vscode.workspace.getConfiguration("hangar").get<string>("debianMirror") || undefined;
    const built = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Hangar: building ${DEFAULT_BOX_NAME}`, cancellable: true }, (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let last = 0;
      return buildDefaultBox({
        hangarHome: hangar.hangarHome,
        mirror,
        signal: abort.signal,
        onProgress: (fraction, message) => {
          hangar.log.info(`box build: ${message} (${Math.round(fraction * 100)}%)`);
          progress.report({ message: `${message} (${Math.round(fraction * 100)}%)`, increment: Math.max(0, fraction * 100 - last) });
          last = Math.max(last, fraction * 100);
        },
      });
    });
    hangar.log.info(`Built ${DEFAULT_BOX_NAME} ${built.version} in ${built.dir}; initramfs sha256 ${built.initrdSha256}`);
    trees.boxes.refresh();
    void vscode.window.showInformationMessage(`Built ${DEFAULT_BOX_NAME} ${built.version}.`);
    return built;
  },
};
