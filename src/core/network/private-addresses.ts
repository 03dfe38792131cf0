// Addresses on private networks (config.vm.network "private_network"): the
// IPv4 arithmetic, the Vagrantfile's ip/netmask/type turned into a guest
// address, and the addresses Hangar hands out for type: "dhcp" (as
// VirtualBox's host-only DHCP server does: 172.28.128.3 and up).
import { HangarError } from "../util/errors";
import type { PrivateNetwork } from "../vagrantfile/machine-config";

/** A machine's request for an address on a private network; `ip` null asks Hangar for one (dhcp). */
export interface PrivateNetworkRequest {
  ip: string | null;
  prefix: number;
}

/** An address a machine holds on a private network, e.g. 192.168.56.10/24. */
export interface PrivateAddress {
  ip: string;
  prefix: number;
}

/** VirtualBox's default host-only network for type: "dhcp", and the first address its DHCP server gives. */
export const DHCP_NETWORK = { base: "172.28.128.0", prefix: 24, first: 3 } as const;

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "255.255.255.0", "24" or 24 → 24; undefined for anything that is not a contiguous IPv4 mask. */
export function parseNetmask(netmask: string | number): number | undefined {
  const text = String(netmask).trim();
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= 30 ? n : undefined;
  }
  const mask = parseIpv4(text);
  if (mask === undefined) return undefined;
  for (let prefix = 1; prefix <= 30; prefix++) if (maskOf(prefix) === mask) return prefix;
  return undefined;
}

/** Whether `ip` is on the network of `address` (same prefix bits). */
export function sameNetwork(a: number, b: number, prefix: number): boolean {
  const mask = maskOf(prefix);
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/**
 * The guest address a private_network line asks for, checked: a static IP
 * must be an IPv4 host address of its network (not the network's own
 * address or its broadcast), with a netmask Hangar can route (/1 to /30).
 */
export function privateNetworkRequest(n: PrivateNetwork): PrivateNetworkRequest {
  const prefix = n.netmask === null ? (n.type === "dhcp" ? DHCP_NETWORK.prefix : 24) : parseNetmask(n.netmask);
  if (prefix === undefined) throw new HangarError(`The private network's netmask '${n.netmask}' is not an IPv4 netmask.`, 'Use a netmask such as "255.255.255.0" (or 24).');
  // Hangar's DHCP hands out VirtualBox's default host-only range; an ip: beside type: "dhcp" is kept as the machine's address.
  if (n.type === "dhcp" && n.ip === null) return { ip: null, prefix: DHCP_NETWORK.prefix };
  if (n.ip === null) throw new HangarError('A private network needs an IP address (ip: "192.168.56.10") or type: "dhcp".');
  const ip = parseIpv4(n.ip);
  if (ip === undefined) throw new HangarError(`The private network's IP '${n.ip}' is not an IPv4 address.`, 'Use an address such as "192.168.56.10" (IPv6 private networks are not supported).');
  const host = ip & ~maskOf(prefix);
  if (host === 0 || host === ~maskOf(prefix) >>> 0)
    throw new HangarError(`The private network's IP ${n.ip} is the network's own address or its broadcast address (/${prefix}).`, "Choose a host address, such as one ending in .10.");
  return { ip: formatIpv4(ip), prefix };
}

/**
 * The lowest address of VirtualBox's default DHCP range that no address in
 * `taken` holds (what a machine of type: "dhcp" is given).
 */
export function nextDhcpAddress(taken: ReadonlySet<string>): PrivateAddress {
  const base = parseIpv4(DHCP_NETWORK.base)!;
  const last = base + (2 ** (32 - DHCP_NETWORK.prefix) - 2);
  for (let n = base + DHCP_NETWORK.first; n <= last; n++) {
    const ip = formatIpv4(n);
    if (!taken.has(ip)) return { ip, prefix: DHCP_NETWORK.prefix };
  }
  throw new HangarError(`Every address of the private network ${DHCP_NETWORK.base}/${DHCP_NETWORK.prefix} is in use.`, "Halt a machine on it, or give this machine a static ip:.");
}
