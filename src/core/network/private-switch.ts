// The virtual switch of private networks, in the machine daemon: every
// running machine of this Hangar home (whatever its project) that has an
// address on a private network is a port. Machines' links (emulator
// private-link.ts) hand it IPv4 packets; it delivers each to the machine
// holding the destination address on the sender's network. The host has no
// address on these networks (unlike VirtualBox's host-only adapter).
import { HangarError } from "../util/errors";
import { nextDhcpAddress, parseIpv4, sameNetwork, type PrivateAddress, type PrivateNetworkRequest } from "./private-addresses";

interface Port {
  addresses: Array<{ ip: number; prefix: number }>;
  deliver(packet: Uint8Array): void;
}

export class PrivateSwitch {
  private readonly ports = new Map<string, Port>();
  /** Addresses claimed by machines that are starting or running, by machine key. */
  private readonly claims = new Map<string, PrivateAddress[]>();
  /** The dhcp address each machine had last, so it keeps it across ups while the daemon runs (as a DHCP lease would). */
  private readonly leases = new Map<string, string>();

  /**
   * The addresses machine `key` gets for its requests: static ones as asked
   * (refused when another running machine holds one), dhcp ones from the
   * free addresses of VirtualBox's default range. Held until `release`.
   */
  claim(key: string, requests: PrivateNetworkRequest[], nameOf: (key: string) => string = (k) => k): PrivateAddress[] {
    this.release(key);
    const taken = new Map<string, string>();
    for (const [other, addresses] of this.claims) for (const a of addresses) taken.set(a.ip, other);
    const out: PrivateAddress[] = [];
    for (const r of requests.filter((x) => x.ip !== null)) {
      const holder = taken.get(r.ip!);
      if (holder) throw new HangarError(`The private network address ${r.ip} is already used by the running machine ${nameOf(holder)}.`, "Give this machine another ip:, or halt the other one.");
      out.push({ ip: r.ip!, prefix: r.prefix });
      taken.set(r.ip!, key);
    }
    for (const r of requests.filter((x) => x.ip === null)) {
      const lease = this.leases.get(key);
      const a = lease && !taken.has(lease) ? { ip: lease, prefix: r.prefix } : nextDhcpAddress(new Set(taken.keys()));
      this.leases.set(key, a.ip);
      out.push(a);
      taken.set(a.ip, key);
    }
    this.claims.set(key, out);
    return out;
  }

  /** Connects a machine's link; packets for its addresses reach `deliver` until `release`. */
  connect(key: string, deliver: (packet: Uint8Array) => void): void {
    const addresses = (this.claims.get(key) ?? []).map((a) => ({ ip: parseIpv4(a.ip)!, prefix: a.prefix }));
    if (addresses.length) this.ports.set(key, { addresses, deliver });
  }

  release(key: string): void {
    this.ports.delete(key);
    this.claims.delete(key);
  }

  /**
   * A packet machine `from` sent: delivered to the machine that holds its
   * destination on a network `from` is on, when `from` sent it from its own
   * address there (links already drop the rest; the switch checks again).
   */
  route(from: string, packet: Uint8Array): void {
    const sender = this.ports.get(from);
    if (!sender || packet.length < 20) return;
    const src = readIp(packet, 12);
    const dest = readIp(packet, 16);
    const net = sender.addresses.find((a) => a.ip === src && sameNetwork(a.ip, dest, a.prefix));
    if (!net) return;
    for (const [key, port] of this.ports) {
      if (key !== from && port.addresses.some((a) => a.ip === dest && sameNetwork(a.ip, src, a.prefix))) return port.deliver(packet);
    }
  }

  /** Every claimed address, for diagnostics: "192.168.56.10/24" by machine key. */
  addresses(key: string): string[] {
    return (this.claims.get(key) ?? []).map((a) => `${a.ip}/${a.prefix}`);
  }
}

function readIp(packet: Uint8Array, offset: number): number {
  return ((packet[offset]! << 24) | (packet[offset + 1]! << 16) | (packet[offset + 2]! << 8) | packet[offset + 3]!) >>> 0;
}
