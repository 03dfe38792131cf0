import { promises as fs, unlinkSync, lstatSync } from "node:fs";
import type * as net from "node:net";
import * as path from "node:path";
import { HangarError } from "./errors";

/** Something already listens (or a file already lies) at the socket's path. */
export class SocketInUseError extends HangarError {
  readonly code = "EADDRINUSE";
  constructor(readonly socketPath: string) {
    super(`${socketPath} is already in use.`);
  }
}

/**
 * Listens on a unix socket that only this user can connect to, whatever the
 * umask: it is bound inside a fresh 0700 folder (mkdtemp), made 0600 there,
 * and only then hard-linked to its final path — so at no instant can another
 * user reach it. Race-free without process.umask(), which worker threads may
 * not call, and which would change the mask of the whole process meanwhile.
 * Like listen(), it fails (SocketInUseError) when the path is taken: a stale
 * socket must be removed first. Named pipes (Windows) listen as they are.
 * When the server closes, the final path is removed if it is still this socket.
 */
export async function listenPrivate(server: net.Server, socketPath: string): Promise<void> {
  if (socketPath.startsWith("\\\\.\\pipe\\")) return listenOn(server, socketPath);
  const dir = path.dirname(socketPath);
  await fs.mkdir(dir, { recursive: true });
  // ".s" + 6 random characters + "/s": no longer than the final name, so within the 107-byte limit of socket paths whenever it is.
  const staging = await fs.mkdtemp(path.join(dir, ".s"));
  const bound = path.join(staging, "s");
  try {
    await listenOn(server, bound);
    await fs.chmod(bound, 0o600);
    try {
      await fs.link(bound, socketPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new SocketInUseError(socketPath);
      // A file system without hard links: rename (the socket is 0600 already; the path was free a moment ago).
      if (
        await fs.lstat(socketPath).then(
          () => true,
          () => false,
        )
      )
        throw new SocketInUseError(socketPath);
      await fs.rename(bound, socketPath);
    }
  } catch (err) {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  const { ino, dev } = lstatSync(socketPath);
  // libuv unlinks the path it bound (the staging one, gone by now); the final path is this module's to remove — only if another server has not taken it since.
  server.once("close", () => {
    try {
      const now = lstatSync(socketPath);
      if (now.ino === ino && now.dev === dev) unlinkSync(socketPath);
    } catch {
      // already gone
    }
  });
}

function listenOn(server: net.Server, p: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(p, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
