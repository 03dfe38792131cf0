import * as vscode from "vscode";
import { checkResourceName, type NetworkSummary } from "../../../core/docker/listing/resource-usage";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";

/** The drivers offered; a real Docker Engine may have more (plugins), Hangar's engine makes bridge networks. */
const DRIVERS = [
  { label: "bridge", detail: "Containers on this host reach each other by name (the default)." },
  { label: "macvlan", detail: "Containers get addresses on a host interface's network (Docker Engine only)." },
  { label: "ipvlan", detail: "Like macvlan, sharing the host interface's MAC address (Docker Engine only)." },
  { label: "overlay", detail: "Spans the hosts of a swarm (Docker Engine in swarm mode only)." },
];

/**
 * Creates a network: name (validated as Docker validates it, and not taken)
 * and driver. Arguments (name, driver) skip the prompts. Returns the new ID.
 */
export const createNetwork: HangarCommand = {
  id: "hangar.network.create",
  async run({ hangar }, nameArg?: unknown, driverArg?: unknown) {
    const taken = new Set(((await hangar.docker.use("Listing networks", (d) => d.listNetworks())) as NetworkSummary[]).map((n) => n.Name));
    const validate = (value: string): string | undefined => checkResourceName("network", value.trim()) ?? (taken.has(value.trim()) ? `A network named "${value.trim()}" already exists.` : undefined);
    const name =
      typeof nameArg === "string"
        ? nameArg.trim()
        : (await vscode.window.showInputBox({ title: "Create Network", prompt: "Name of the new network", placeHolder: "my-network", validateInput: validate }))?.trim();
    if (name === undefined) return undefined;
    const problem = validate(name);
    if (problem) throw new HangarError(problem, "Choose another name.");
    const driver = typeof driverArg === "string" ? driverArg.trim() : (await vscode.window.showQuickPick(DRIVERS, { title: `Create Network ${name}`, placeHolder: "Network driver" }))?.label;
    if (driver === undefined) return undefined;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.\-/:]*$/.test(driver)) throw new HangarError(`"${driver}" is not a network driver name.`, "Use bridge, or a driver the engine has.");
    const created = (await hangar.docker.use(`Creating network ${name}`, (d) => d.createNetwork({ Name: name, Driver: driver, CheckDuplicate: true }))) as { id?: string };
    hangar.log.info(`Created network ${name} (${driver}).`);
    return created.id;
  },
};
