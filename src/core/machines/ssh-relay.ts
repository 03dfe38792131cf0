import * as net from "node:net";
import type { Duplex } from "node:stream";

/**
 * A TCP listener on 127.0.0.1 whose every connection is piped to a fresh
 * stream into the guest's SSH server. This is how `ssh`, `scp`, `sftp` and
 * Hangar's own CLI (in another process) reach an embedded machine: the guest
 * still authenticates every connection itself (key auth only).
 */
export class SshRelay {
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly sockets: Set<net.Socket>,
  ) {}

  static async listen(openGuestStream: () => Duplex, preferredPort = 0): Promise<SshRelay> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const guest = openGuestStream();
      socket.pipe(guest).pipe(socket);
      const close = (): void => {
        sockets.delete(socket);
        socket.destroy();
        guest.destroy();
      };
      socket.on("error", close).on("close", close);
      guest.on("error", close).on("close", close).on("end", () => socket.end());
    });
    const port = await listenOn(server, preferredPort).catch(() => listenOn(server, 0));
    return new SshRelay(server, port, sockets);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function listenOn(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
