import * as vscode from "vscode";
import type { BoundPort } from "../../../core/ports/port-relays";
import { HangarError } from "../../../core/util/errors";
import { machineCommand } from "../machines/machine-command";

/**
 * `hangar port`: a running machine's forwarded ports as bound (an
 * auto-corrected one shows where it moved), in a quick pick; the one picked
 * opens in the browser. `{ pick: false }` only returns them (tests, scripts).
 */
export const listMachinePorts = machineCommand({
  id: "hangar.ports.list",
  verb: "list forwarded ports",
  allowed: (m) => m.state === "running",
  async run({ hangar }, target, args) {
    const [status] = await hangar.machines.project(target.vagrantfile).status([target.name]);
    if (status.state !== "running" || !status.ports) throw new HangarError(`Machine '${target.name}' is ${status.state.replace("_", " ")}; forwarded ports exist while it runs.`);
    const ports: BoundPort[] = status.ports;
    if (args.some((a) => typeof a === "object" && a !== null && (a as { pick?: boolean }).pick === false)) return ports;
    const pick = await vscode.window.showQuickPick(
      ports.map((p) => ({
        label: `${p.hostIp}:${p.host}`,
        description: `guest ${p.guest}${p.id === "ssh" ? " (SSH)" : ""}`,
        detail: p.requested && p.host !== p.requested ? `asked for ${p.requested}; moved (auto_correct)` : undefined,
        port: p,
      })),
      { title: `Forwarded ports of '${target.name}'`, placeHolder: "Pick one to open it in the browser" },
    );
    if (!pick) return ports;
    const host = pick.port.hostIp === "0.0.0.0" || pick.port.hostIp === "::" ? "127.0.0.1" : pick.port.hostIp;
    await vscode.env.openExternal(vscode.Uri.parse(`http://${host.includes(":") ? `[${host}]` : host}:${pick.port.host}/`));
    return ports;
  },
});
