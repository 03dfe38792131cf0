import * as vscode from "vscode";
import { browsablePorts } from "../../../core/docker/listing/container-groups";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";
import { containerTarget } from "./container-target";

/** Opens a published TCP port in the browser (a picker when there are several). */
export const openContainerPort: HangarCommand = {
  id: "hangar.container.openPort",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Open a port of which container?", ["running"]);
    const info = t.info ?? (await hangar.docker.use("Listing containers", (d) => d.listContainers({ all: true, filters: { id: [t.id] } })))[0];
    const ports = browsablePorts(info?.Ports ?? []);
    if (!ports.length) throw new HangarError(`${t.name} publishes no TCP port.`, "Run it with ports published (-p or -P) to open one in a browser.");
    const choice =
      ports.length === 1
        ? ports[0]
        : await vscode.window.showQuickPick(
            ports.map((p) => ({ ...p, label: p.label })),
            { placeHolder: `Open which port of ${t.name}?` },
          );
    if (!choice) return undefined;
    await vscode.env.openExternal(vscode.Uri.parse(choice.url));
    return choice.url;
  },
};
