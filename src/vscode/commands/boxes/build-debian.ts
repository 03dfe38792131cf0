import { DEBIAN_BOX_NAME } from "../../../core/boxes/debian-box/debian-box-builder";
import type { HangarCommand } from "../hangar-command";
import { buildBuiltin } from "./build";

/** hangar/debian-bookworm: Debian with apt on a disk (its second stage configures the packages in the emulator: a few minutes). */
export const buildDebianBox: HangarCommand = {
  id: "hangar.box.buildDebian",
  run: (context) => buildBuiltin(context, DEBIAN_BOX_NAME),
};
