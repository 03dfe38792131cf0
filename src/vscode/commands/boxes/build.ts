import * as vscode from "vscode";
import { buildBuiltinBox } from "../../../core/boxes/default-box/builtin-box";
import { DEFAULT_BOX_NAME } from "../../../core/boxes/default-box/default-box-builder";
import type { CommandContext, HangarCommand } from "../hangar-command";

/**
 * Builds a built-in box from Debian packages with a cancellable progress
 * notification that shows the download and build fractions. The Debian
 * mirror comes from `hangar.debianMirror`, else HANGAR_DEBIAN_MIRROR, else
 * this computer's apt configuration.
 */
export async function buildBuiltin({ hangar, trees, withProgress }: CommandContext, name: string): Promise<Awaited<ReturnType<typeof buildBuiltinBox>>> {
  const mirror = vscode.workspace.getConfiguration("hangar").get<string>("debianMirror") || undefined;
  const built = await withProgress({ title: `Hangar: building ${name}`, cancellable: true }, ({ signal, report }) =>
    buildBuiltinBox(name, {
      hangarHome: hangar.hangarHome,
      mirror,
      signal,
      onProgress: (fraction, message) => {
        hangar.log.info(`box build: ${message} (${Math.round(fraction * 100)}%)`);
        report(`${message} (${Math.round(fraction * 100)}%)`, fraction);
      },
    }),
  );
  hangar.log.info(`Built ${name} ${built.version} in ${built.dir}${built.initrdSha256 ? `; initramfs sha256 ${built.initrdSha256}` : ""}`);
  trees.boxes.refresh();
  void vscode.window.showInformationMessage(`Built ${name} ${built.version}.`);
  return built;
}

export const buildBox: HangarCommand = {
  id: "hangar.box.build",
  run: (context) => buildBuiltin(context, DEFAULT_BOX_NAME),
};
