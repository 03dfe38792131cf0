// The guest's way out: a user-mode NAT (like Vagrant's default NAT adapter)
// on top of v86's built-in network stack, which by itself answers only port
// 80 (through fetch) and resets every other outbound TCP connection. Each
// guest connection becomes a real host socket; the gateway is the host's
// loopback (VirtualBox NAT's 10.0.2.2); the guest's DNS queries go to the
// host's own resolver. Runs in the emulator's worker thread.
import * as dgram from "node:dgram";
import { getServers } from "node:dns";
import * as net from "node:net";
import * as os from "node:os";
import type { V86 } from "v86" with { "resolution-mode": "import" };
import { deliverFinPayload } from "./guest-tcp";

/** The parts of v86's TCPConnection (src/browser/fake_network.js) used here; the build keeps these names. */
interface V86Segment {
  tcp: { seq: number; fin: boolean; syn: boolean; rst: boolean };
  tcp_data: Uint8Array;
}
interface NatConnection {
  state: string;
  tuple: string;
  /** v86's end of the connection, so the address and port the guest dialled. */
  psrc: Uint8Array;
  /** The guest's end: the address it sent from (a container's, when the engine machine forwards one's packet). */
  pdest: Uint8Array;
  sport: number;
  /** The segment v86 saw last: for a connection not yet accepted, the guest's SYN. */
  last: V86Segment;
  /** The next sequence number expected from the guest, and v86's own. */
  ack: number;
  seq: number;
  send_buffer: { length: number };
  on(event: "data", handler: (data: Uint8Array) => void): void;
  on(event: "shutdown" | "close", handler: () => void): void;
  accept(): void;
  write(data: Uint8Array): void;
  close(): void;
  process(segment: V86Segment): void;
  packet_reply(segment: V86Segment, flags: Record<string, boolean>): unknown;
  pump(): void;
}
interface NatAdapter {
  router_ip: Uint8Array;
  vm_ip: Uint8Array;
  tcp_conn: Record<string, NatConnection | undefined>;
  bus: { listeners: Record<string, Array<{ fn: unknown; this_value: unknown }> | undefined>; unregister(name: string, fn: unknown): void };
  on_tcp_connection?: (conn: NatConnection) => void;
}

/** The guest's gateway (v86's router address): the host's 127.0.0.1 for the guest itself, the host's own address for containers in the engine machine. */
export const HOST_GATEWAY_IP = "192.168.86.1";

/** Host data queued for the guest beyond which the host socket is paused (v86 sends one segment per guest ACK). */
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;
/** v86 answers every name with this address when its DNS is "static"; nothing is there. */
const V86_STATIC_DNS_ANSWER = "192.168.87.1";

interface Dial {
  conn: NatConnection;
  socket: net.Socket;
}

export class GuestNat {
  /**
   * net_device options: v86 posts each guest DNS query to
   * `https://<doh_server>/dns-query` with the global fetch; this name cannot
   * exist (RFC 2606), so the worker's fetch knows those requests for its own.
   */
  static readonly dnsOptions = { dns_method: "doh", doh_server: "hangar-dns.invalid" } as const;

  private adapter?: NatAdapter;
  /** Connections whose host socket is still connecting, by v86's tuple: the guest has no SYN-ACK yet. */
  private readonly dialing = new Map<string, Dial>();

  constructor(emulator: V86) {
    forwardDnsToHost();
    // The adapter exists by "emulator-ready", which comes before the guest runs (cold boot or restored state).
    emulator.add_listener("emulator-ready", () => {
      const adapter = (emulator as unknown as { network_adapter?: NatAdapter }).network_adapter;
      if (adapter) this.attach(adapter);
    });
  }

  private attach(adapter: NatAdapter): void {
    this.adapter = adapter;
    // The adapter's own handler answers port 80 with fetch() (HTTP only, no loopback): every port is ours instead.
    for (const l of adapter.bus.listeners["tcp-connection"] ?? []) if (l.this_value === adapter) adapter.bus.unregister("tcp-connection", l.fn);
    adapter.on_tcp_connection = (conn) => this.onSyn(conn);
  }

  /** Called for every guest SYN, retransmits included (each with a new connection object). */
  private onSyn(conn: NatConnection): void {
    const { tuple } = conn;
    const pending = this.dialing.get(tuple);
    if (pending) return this.hold(pending, conn);
    const to = this.destination(conn);
    if (!to) return; // unregistered, v86 resets it: the guest's connect() fails with "connection refused"
    const socket = net.connect({ ...to, allowHalfOpen: true });
    const dial: Dial = { conn, socket };
    this.dialing.set(tuple, dial);
    this.hold(dial, conn);
    socket.once("connect", () => {
      this.dialing.delete(tuple);
      splice(dial.conn, socket);
    });
    socket.on("error", () => {
      if (this.dialing.get(tuple) !== dial) return; // after connect: the "close" that follows ends the guest side
      this.dialing.delete(tuple);
      if (this.adapter?.tcp_conn[tuple] === dial.conn) delete this.adapter.tcp_conn[tuple];
      refuse(dial.conn);
    });
  }

  /** Registers the connection without accepting it: v86 stays silent (no SYN-ACK) until the host socket connects. */
  private hold(dial: Dial, conn: NatConnection): void {
    dial.conn = conn;
    this.adapter!.tcp_conn[conn.tuple] = conn;
    conn.on("close", () => {
      // The guest gave up (reset) while the host was still connecting.
      this.dialing.delete(conn.tuple);
      dial.socket.destroy();
    });
  }

  private destination(conn: NatConnection): { host: string; port: number } | undefined {
    const ip = conn.psrc.join(".");
    const router = this.adapter!.router_ip;
    if (ip === router.join(".")) {
      // DNS over TCP (after a truncated UDP answer) goes where the UDP queries go.
      if (conn.sport === 53) {
        const [dns] = hostDnsServers();
        return dns && { host: dns.address, port: dns.port };
      }
      // The guest itself finds the host's loopback here, as behind VirtualBox's NAT. A packet from another address is
      // a container's, forwarded by the engine machine: an image is untrusted, so it gets what Docker's host-gateway
      // gives one on Linux — the host's own address, where only services listening beyond loopback answer.
      if (conn.pdest.join(".") !== this.adapter!.vm_ip.join(".")) {
        const host = hostAddress();
        return host ? { host, port: conn.sport } : undefined;
      }
      return { host: "127.0.0.1", port: conn.sport };
    }
    // The rest of the guest's own /24 is nobody; the static DNS answer is nowhere.
    if (ip === V86_STATIC_DNS_ANSWER || conn.psrc.subarray(0, 3).every((b, i) => b === router[i])) return undefined;
    return { host: ip, port: conn.sport };
  }
}

/**
 * Answers the guest's SYN with a reset, so its connect() fails at once with
 * "connection refused" (host refused or unreachable). v86 has no call for a
 * reset, but answers any segment on a closed connection with one; a reset to a
 * SYN must also acknowledge it (Linux ignores it otherwise).
 */
function refuse(conn: NatConnection): void {
  const reply = conn.packet_reply.bind(conn);
  conn.packet_reply = (segment, flags) => reply(segment, { ...flags, ack: true });
  conn.seq = 0;
  conn.ack = conn.last.tcp.seq + 1;
  conn.state = "closed";
  conn.process(conn.last);
}

/** Joins an accepted guest connection and a connected host socket, both ways, with half-close. */
function splice(conn: NatConnection, socket: net.Socket): void {
  deliverFinPayload(conn, (data) => socket.write(data));
  // Resume the host socket once the guest has acknowledged enough of what is queued (pump runs after every ACK).
  const pump = conn.pump.bind(conn);
  conn.pump = () => {
    pump();
    if (socket.isPaused() && conn.send_buffer.length < LOW_WATER) socket.resume();
  };
  // The payload is a view of the NIC's buffer, which the next frame overwrites: copy it.
  conn.on("data", (data) => socket.write(Uint8Array.from(data)));
  conn.on("shutdown", () => socket.end());
  conn.on("close", () => socket.destroy());
  socket.on("data", (chunk) => {
    conn.write(chunk); // copied into v86's send buffer
    if (conn.send_buffer.length > HIGH_WATER) socket.pause();
  });
  // The host's FIN (or a failed socket) becomes the guest's FIN once the queued bytes are delivered.
  socket.on("end", () => conn.close());
  socket.on("close", () => conn.close());
  conn.accept();
}

/** The host's first non-loopback IPv4 address (its LAN or bridge address), if it has one. */
function hostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

/** The host's nameservers, as Node's resolver has them ("a.b.c.d", "::1", "[::1]:5353", "a.b.c.d:5353"). */
function hostDnsServers(): Array<{ address: string; port: number }> {
  return getServers().map((s) => {
    const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([\d.]+):(\d+)$/.exec(s);
    return m ? { address: m[1]!, port: Number(m[2]) } : { address: s, port: 53 };
  });
}

let dnsForwarding = false;

/** In this worker, answers v86's DoH requests by sending the raw query to the host's nameservers over UDP. */
function forwardDnsToHost(): void {
  if (dnsForwarding) return;
  dnsForwarding = true;
  const realFetch = globalThis.fetch;
  const ours = `https://${GuestNat.dnsOptions.doh_server}/dns-query`;
  globalThis.fetch = (input, init) => {
    if (input !== ours || !(init?.body instanceof Uint8Array)) return realFetch(input, init);
    // The body is a view of the NIC's buffer: copy it before anything else runs. v86 does not catch a failed fetch, so this never fails.
    const query = Uint8Array.from(init.body);
    return resolveOnHost(query).then((reply) => new Response(reply));
  };
}

/** The host resolver's raw answer to a raw DNS query; SERVFAIL when there is no nameserver or none answers. */
export async function resolveOnHost(query: Uint8Array): Promise<Uint8Array> {
  if (query.length < 12) return new Uint8Array(0);
  for (const server of hostDnsServers()) {
    const reply = await askServer(query, server.address, server.port);
    if (reply) return reply;
  }
  return serverFailure(query); // no nameserver, or none answered: the guest hears it at once rather than waiting out its timeout
}

function askServer(query: Uint8Array, address: string, port: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    let done = false;
    const finish = (reply?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(finish, 2000);
    sock.on("error", () => finish());
    // Only the reply to this query (same ID) counts.
    sock.on("message", (msg) => msg.length >= 12 && msg[0] === query[0] && msg[1] === query[1] && finish(new Uint8Array(msg)));
    sock.send(query, port, address);
  });
}

/** A SERVFAIL answer to `query`: its header and question, with the response bit and RCODE 2. */
function serverFailure(query: Uint8Array): Uint8Array {
  let end = 12;
  if (query[4] === 0 && query[5] === 1) {
    while (end < query.length && query[end] !== 0) end += query[end]! + 1; // the question's name, label by label
    end = Math.min(end + 5, query.length); // its root label, type and class
  }
  const reply = query.slice(0, end);
  reply[2] = reply[2]! | 0x80; // QR: a response
  reply[3] = 0x80 | 2; // RA, RCODE = SERVFAIL
  reply.fill(0, 6, 12); // no answer, authority or additional records
  if (end === 12) reply.fill(0, 4, 6);
  return reply;
}
