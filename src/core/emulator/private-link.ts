// A machine's side of its private networks, in the emulator's worker. The
// guest has one NIC (v86 emulates one), so its private addresses sit beside
// the NAT address on eth0; this link takes the guest's frames for those
// networks before v86's NAT stack sees them and hands their IPv4 packets to
// the switch in the machine daemon (private-switch.ts), and puts the
// switch's packets back on the wire. The link answers the guest's ARP for
// every address of its networks itself (proxy ARP), so the switch routes
// IPv4 packets only: no broadcast domain spans machines.
import type { V86 } from "v86" with { "resolution-mode": "import" };
import { maskOf, parseIpv4, sameNetwork, type PrivateAddress } from "../network/private-addresses";

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;

/** The parts of v86's fetch network adapter (src/browser/fetch_network.js) used here. */
interface V86Adapter {
  router_mac: Uint8Array;
  vm_mac: Uint8Array;
  send(frame: Uint8Array): void;
  receive(frame: Uint8Array): void;
}

export class PrivateLink {
  private adapter?: V86Adapter;
  private readonly nets: Array<{ ip: number; prefix: number }>;

  constructor(
    emulator: V86,
    addresses: PrivateAddress[],
    private readonly onPacket: (packet: Uint8Array) => void,
  ) {
    this.nets = addresses.map((a) => ({ ip: parseIpv4(a.ip)!, prefix: a.prefix }));
    if (!this.nets.length) return;
    emulator.add_listener("emulator-ready", () => {
      const adapter = (emulator as unknown as { network_adapter?: V86Adapter }).network_adapter;
      if (!adapter) return;
      this.adapter = adapter;
      // v86's bus calls adapter.send for every frame the guest transmits: see ours first.
      const natSend = adapter.send.bind(adapter);
      adapter.send = (frame) => {
        if (!this.take(frame)) natSend(frame);
      };
    });
  }

  /** A guest frame for a private network: consumed (true), or left to the NAT stack. */
  private take(frame: Uint8Array): boolean {
    const decision = classifyGuestFrame(frame, this.nets);
    if (decision.kind === "nat") return false;
    if (decision.kind === "arp") this.adapter!.receive(arpReply(frame, this.adapter!.router_mac));
    else if (decision.kind === "ipv4") this.onPacket(Uint8Array.from(frame.subarray(14, 14 + decision.length)));
    return true;
  }

  /** An IPv4 packet from the switch, addressed to one of this guest's private addresses. */
  deliver(packet: Uint8Array): void {
    const a = this.adapter;
    if (!a || packet.length < 20) return;
    const dest = ipAt(packet, 16);
    if (!this.nets.some((n) => n.ip === dest)) return;
    const frame = new Uint8Array(14 + packet.length);
    frame.set(a.vm_mac, 0);
    frame.set(a.router_mac, 6);
    frame[12] = ETHERTYPE_IPV4 >> 8;
    frame[13] = ETHERTYPE_IPV4 & 255;
    frame.set(packet, 14);
    a.receive(frame);
  }
}

export type GuestFrameDecision = { kind: "nat" } | { kind: "drop" } | { kind: "arp" } | { kind: "ipv4"; length: number };

/**
 * What to do with a frame the guest sent, given its private addresses:
 * ARP requests for another address of a private network are answered here;
 * IPv4 packets to a private network go to the switch when they come from
 * the guest's own address on it (anything else, a spoofed source or a
 * broadcast, is dropped); every other frame is the NAT stack's.
 */
export function classifyGuestFrame(frame: Uint8Array, nets: ReadonlyArray<{ ip: number; prefix: number }>): GuestFrameDecision {
  if (frame.length < 14) return { kind: "nat" };
  const type = (frame[12]! << 8) | frame[13]!;
  if (type === ETHERTYPE_ARP) {
    if (frame.length < 42) return { kind: "nat" };
    const oper = (frame[20]! << 8) | frame[21]!;
    const target = ipAt(frame, 38);
    const net = nets.find((n) => sameNetwork(n.ip, target, n.prefix));
    if (!net) return { kind: "nat" };
    // The guest's own address (duplicate-address probes) has nobody else to answer for it.
    return oper === 1 && target !== net.ip && !isBroadcast(target, net.prefix) ? { kind: "arp" } : { kind: "drop" };
  }
  if (type !== ETHERTYPE_IPV4 || frame.length < 34) return { kind: "nat" };
  const dest = ipAt(frame, 30);
  const net = nets.find((n) => sameNetwork(n.ip, dest, n.prefix));
  if (!net) return { kind: "nat" };
  const length = (frame[16]! << 8) | frame[17]!;
  if (ipAt(frame, 26) !== net.ip || isBroadcast(dest, net.prefix) || length < 20 || 14 + length > frame.length) return { kind: "drop" };
  return { kind: "ipv4", length };
}

/** The ARP reply to a guest's request: the router's MAC holds every other address of the network. */
export function arpReply(request: Uint8Array, routerMac: Uint8Array): Uint8Array {
  const reply = new Uint8Array(42);
  reply.set(request.subarray(6, 12), 0); // to the asker
  reply.set(routerMac, 6);
  reply.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12); // ARP, Ethernet/IPv4, reply
  reply.set(routerMac, 22); // sender: the router's MAC…
  reply.set(request.subarray(38, 42), 28); // …for the address asked about
  reply.set(request.subarray(22, 28), 32); // target: the asker's MAC and address
  reply.set(request.subarray(28, 32), 38);
  return reply;
}

function ipAt(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function isBroadcast(ip: number, prefix: number): boolean {
  return (ip & ~maskOf(prefix)) >>> 0 === ~maskOf(prefix) >>> 0;
}
