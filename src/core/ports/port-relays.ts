import * as net from "node:net";
import type { Duplex } from "node:stream";
import { HangarError } from "../util/errors";

/** A forwarded port as a machine asks for it (Vagrant's `forwarded_port`, or the SSH endpoint). */
export interface PortForward {
  /** Vagrant's id: "ssh" for the SSH endpoint. */
  id: string;
  guest: number;
  host: number;
  hostIp: string;
  autoCorrect: boolean;
  /** Where an auto-corrected port may move to, inclusive (Vagrant's usable_port_range: 2200..2250). */
  range?: [number, number];
}

/** A forwarded port as it is bound: `host` differs from `requested` when it was auto-corrected. */
export interface BoundPort {
  id: string;
  guest: number;
  host: number;
  hostIp: string;
  requested: number;
}

export const USABLE_PORT_RANGE: [number, number] = [2200, 2250];

/**
 * The host listeners of one machine's forwarded ports. Each connection gets
 * a fresh stream into the guest's port through the emulator's own network
 * stack, so the guest sees an ordinary TCP client. Listeners are bound before
 * the guest starts, so a taken port fails `up` before it costs a boot.
 */
export class PortRelays {
  private openGuest?: (guestPort: number) => Duplex | Promise<Duplex>;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly servers: net.Server[],
    readonly ports: BoundPort[],
  ) {
    servers.forEach((server, i) => server.on("connection", (socket) => void this.relay(socket, ports[i].guest)));
  }

  /** Binds every forward (in order; a corrected port never takes another forward's port). Nothing stays bound on failure. */
  static async bind(forwards: PortForward[]): Promise<PortRelays> {
    const servers: net.Server[] = [];
    const ports: BoundPort[] = [];
    try {
      for (const f of forwards) {
        if (!isLoopback(f.hostIp) && f.id === "ssh") throw new HangarError(`The SSH endpoint binds to the loopback address only, not ${f.hostIp}.`, "Remove host_ip from the SSH forwarded port.");
        const taken = new Set(ports.map((p) => p.host));
        // Half-open: a client that ends its side (an HTTP/1.0 request, `nc -N`) still gets the guest's answer.
        const server = net.createServer({ allowHalfOpen: true });
        const host = await listenFirst(server, f, taken);
        servers.push(server);
        ports.push({ id: f.id, guest: f.guest, host, hostIp: f.hostIp, requested: f.host });
      }
    } catch (err) {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      throw err;
    }
    return new PortRelays(servers, ports);
  }

  /** Connections are relayed once the guest exists; before that they are refused. */
  attach(openGuest: (guestPort: number) => Duplex | Promise<Duplex>): void {
    this.openGuest = openGuest;
  }

  port(id: string): number | undefined {
    return this.ports.find((p) => p.id === id)?.host;
  }

  private async relay(socket: net.Socket, guestPort: number): Promise<void> {
    if (!this.openGuest) return void socket.destroy();
    this.sockets.add(socket);
    socket.pause();
    socket.on("error", () => socket.destroy());
    let guest: Duplex;
    try {
      guest = await this.openGuest(guestPort);
    } catch {
      // Nothing listens there (or the guest went away): the client sees the connection closed, as with a refused port.
      this.sockets.delete(socket);
      return void socket.destroy();
    }
    if (socket.destroyed) return void guest.destroy();
    socket.pipe(guest).pipe(socket);
    const abort = (): void => {
      this.sockets.delete(socket);
      socket.destroy();
      guest.destroy();
    };
    socket.on("error", abort).on("close", () => {
      this.sockets.delete(socket);
      guest.destroy();
    });
    // The guest's side ending or closing ends the client's side, which still sends what it has buffered: destroying it
    // here cut a slow client's download short by what was still on its way.
    guest
      .on("error", abort)
      .on("end", () => socket.end())
      .on("close", () => socket.end());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function isLoopback(ip: string): boolean {
  return ip === "127.0.0.1" || ip === "localhost" || ip === "::1" || ip.startsWith("127.");
}

/** A requested host port something else listens on (without auto_correct); the engine words it as Docker does. */
export class PortInUseError extends HangarError {
  constructor(
    readonly hostIp: string,
    readonly host: number,
    message: string,
    hint: string,
  ) {
    super(message, hint);
  }
}

/** The requested port, else (auto_correct) the first free one of the range; a clear error otherwise. */
async function listenFirst(server: net.Server, f: PortForward, taken: Set<number>): Promise<number> {
  const what = f.id === "ssh" ? "the SSH endpoint" : `forwarding to guest port ${f.guest}`;
  const first = await tryListen(server, f.host, f.hostIp);
  if (first === "ok") return (server.address() as net.AddressInfo).port;
  if (first === "denied") throw new HangarError(`Host port ${f.host} (${what}) needs privileges this user lacks.`, "Use a host port above 1023.");
  if (first === "unavailable") throw new HangarError(`The host address ${f.hostIp} (${what}) does not belong to this computer.`, "Use 127.0.0.1, or an address this computer has.");
  if (!f.autoCorrect)
    throw new PortInUseError(
      f.hostIp,
      f.host,
      f.id === "ssh"
        ? `Host port ${f.hostIp}:${f.host} (${what}) is already in use on this computer.`
        : // Vagrant's port-collision error, in its words.
          `Hangar cannot forward the specified ports on this machine, since they would collide with some other application that is already listening on these ports. The forwarded port to ${f.host} (host ${f.hostIp}:${f.host}, guest port ${f.guest}) is already in use on the host machine.`,
      f.id === "ssh"
        ? "Stop what uses it, or choose another port for the SSH endpoint."
        : `To fix this, modify the Vagrantfile to use another port, for example \`config.vm.network :forwarded_port, guest: ${f.guest}, host: 1234\`, or add auto_correct: true to its forwarded_port line.`,
    );
  const [lo, hi] = f.range ?? USABLE_PORT_RANGE;
  for (let port = lo; port <= hi; port++) {
    if (port === f.host || taken.has(port)) continue;
    if ((await tryListen(server, port, f.hostIp)) === "ok") return port;
  }
  throw new HangarError(`Host port ${f.host} (${what}) is in use, and so is every port from ${lo} to ${hi} it could move to.`, "Free a port in that range, or stop other machines.");
}

function tryListen(server: net.Server, port: number, host: string): Promise<"ok" | "in-use" | "denied" | "unavailable"> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") resolve("in-use");
      else if (err.code === "EACCES") resolve("denied");
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") resolve("unavailable");
      else reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve("ok");
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
