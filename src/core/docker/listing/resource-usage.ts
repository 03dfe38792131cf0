import type { ContainerInfo } from "dockerode";
import { containerName } from "./container-groups";

/** A network as GET /networks lists it (the fields the views use). */
export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver?: string;
  Scope?: string;
  IPAM?: { Config?: Array<{ Subnet?: string }> | null } | null;
}

/** A volume as GET /volumes lists it. */
export interface VolumeSummary {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  CreatedAt?: string;
}

/** The networks Docker makes itself, which cannot be removed. */
const PREDEFINED_NETWORKS = new Set(["bridge", "host", "none"]);

export function isPredefinedNetwork(n: Pick<NetworkSummary, "Name">): boolean {
  return PREDEFINED_NETWORKS.has(n.Name);
}

/**
 * The containers (running or not) attached to a network, by name. GET
 * /networks leaves out its Containers since API 1.28 (and lists only
 * running ones in inspect), so attachments come from GET
 * /containers/json?all=1 instead: one call for every network. A container
 * never started may have no NetworkID yet: its endpoint's key (the network's
 * name) matches then.
 */
export function networkMembers(network: Pick<NetworkSummary, "Id" | "Name">, containers: ContainerInfo[]): ContainerInfo[] {
  return containers
    .filter((c) => Object.entries(c.NetworkSettings?.Networks ?? {}).some(([name, ep]) => (ep.NetworkID ? ep.NetworkID === network.Id : name === network.Name)))
    .sort((a, b) => containerName(a).localeCompare(containerName(b)));
}

/** The containers (running or not) that mount a volume, by name: what makes `volume rm` refuse it. */
export function volumeUsers(volume: Pick<VolumeSummary, "Name">, containers: ContainerInfo[]): ContainerInfo[] {
  return containers.filter((c) => (c.Mounts ?? []).some((m) => m.Type === "volume" && m.Name === volume.Name)).sort((a, b) => containerName(a).localeCompare(containerName(b)));
}

/** The container's address on a network ("172.18.0.2"), or "" before it runs. */
export function addressOn(network: Pick<NetworkSummary, "Id" | "Name">, c: ContainerInfo): string {
  const ep = Object.entries(c.NetworkSettings?.Networks ?? {}).find(([name, e]) => (e.NetworkID ? e.NetworkID === network.Id : name === network.Name))?.[1];
  return ep?.IPAddress ?? "";
}

/**
 * Docker's rule for network and volume names (daemon/names: `[a-zA-Z0-9][a-zA-Z0-9_.-]`);
 * returns why `name` breaks it, or undefined when it is valid.
 */
export function checkResourceName(kind: "network" | "volume", name: string): string | undefined {
  if (!name) return `A ${kind} needs a name.`;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) return `"${name}" is not a valid ${kind} name: use letters, digits, "_", "." and "-", starting with a letter or digit.`;
  // Docker refuses one-character volume names (the rule's second class is "+", not "*").
  if (kind === "volume" && name.length < 2) return "A volume name has at least two characters.";
  return undefined;
}
