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
  async run({ hangar, trees, withProgress }) {
    const mirror = vscode.workspace.getConfiguration("hangar").get<string>("debianMirror") || undefined;
    const built = await withProgress({ title: `Hangar: building ${DEFAULT_BOX_NAME}`, cancellable: true }, ({ signal, report }) =>
      buildDefaultBox({
        hangarHome: hangar.hangarHome,
        mirror,
        signal,
        onProgress: (fraction, message) => {
          hangar.log.info(`box build: ${message} (${Math.round(fraction * 100)}%)`);
          report(`${message} (${Math.round(fraction * 100)}%)`, fraction);
        },
      }),
    );
    hangar.log.info(`Built ${DEFAULT_BOX_NAME} ${built.version} in ${built.dir}; initramfs sha256 ${built.initrdSha256}`);
    trees.boxes.refresh();
    void vscode.window.showInformationMessage(`Built ${DEFAULT_BOX_NAME} ${built.version}.`);
    return built;
  },
};
