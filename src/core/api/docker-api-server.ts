import { addRegistryRoutes } from "./registry-routes";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { product } from "../product";
import { errorMessage, HangarError } from "../util/errors";
import { listenPrivate, SocketInUseError } from "../util/private-socket";
import { errorBody, NotImplementedError, statusOf } from "./api-errors";
import { ApiRouter } from "./api-router";
import { sendJson } from "./api-response";
import { API_VERSION, splitVersionPrefix } from "./api-version";
import { addBuildRoutes } from "./build-routes";
import { addContainerRoutes, attachUpgrade } from "./container-routes";
import { addArchiveRoutes } from "./archive-routes";
import { addExecRoutes, execUpgrade } from "./exec-routes";
import { addTopRoutes } from "./top-routes";
import type { EngineContext } from "./engine-context";
import { dockerHost, isNamedPipe } from "./engine-socket";
import { addImageRoutes } from "./image-routes";
import { addNetworkRoutes } from "./network-routes";
import { addSystemRoutes } from "./system-routes";
import { addVolumeRoutes } from "./volume-routes";

/** Something already answers on the engine's socket or pipe: another engine for this HANGAR_HOME. */
export class EngineAlreadyRunningError extends HangarError {
  constructor(readonly socket: string) {
    super(`Another Hangar engine already answers on ${dockerHost(socket)}.`, "Use it, or stop it first with `hangar engine stop`.");
  }
}

export interface ApiServerOptions {
  /** Where failures the client cannot act on (500s) are recorded, with their stacks. */
  log?(line: string): void;
}

/** All routes of the engine, one family per file; new families (containers, networks, volumes, build) add theirs here. */
export function createEngineRouter(engine: EngineContext): ApiRouter {
  const router = new ApiRouter();
  addSystemRoutes(router, engine);
  addImageRoutes(router, engine);
  addRegistryRoutes(router, engine);
  addContainerRoutes(router, engine);
  addBuildRoutes(router, engine);
  addNetworkRoutes(router, engine);
  addVolumeRoutes(router, engine);
  addExecRoutes(router, engine);
  addTopRoutes(router, engine);
  addArchiveRoutes(router, engine);
  return router;
}

/**
 * The Docker Engine API over HTTP/1.1 on a unix socket or named pipe.
 * Every request: the optional "/v1.NN" prefix is split off and checked
 * (too new or too old is Docker's 400), the route runs, and any error
 * becomes Docker's `{"message": …}` with Docker's status — or, once a
 * streamed body has begun, a cut connection. Paths no route knows get
 * 501 "Hangar's engine does not support METHOD /path yet", which the docker
 * CLI shows as is.
 */
export class DockerApiServer {
  private constructor(
    private readonly server: http.Server,
    readonly socket: string,
  ) {}

  /**
   * Listens on `socket`. A socket file left by an engine that died is
   * removed first — only when nothing answers on it; when something does,
   * EngineAlreadyRunningError. The socket is 0600 from the first instant
   * it can be reached, whatever the umask (listenPrivate): the API gives
   * whoever connects the engine's powers.
   */
  static async listen(socket: string, engine: EngineContext, options: ApiServerOptions = {}): Promise<DockerApiServer> {
    const router = createEngineRouter(engine);
    const pipe = isNamedPipe(socket);
    if (!pipe) {
      await fs.mkdir(path.dirname(socket), { recursive: true });
      const existing = await fs.lstat(socket).catch(() => undefined);
      if (existing) {
        if (await answers(socket)) throw new EngineAlreadyRunningError(socket);
        if (!existing.isSocket()) throw new HangarError(`${socket} exists and is not a socket, so the engine cannot listen there.`, "Move that file away, then start the engine again.");
        await fs.rm(socket, { force: true });
      }
    }
    const server = http.createServer((req, res) => void handle(router, req, res, options));
    // Hijacked connections (attach) ask for `Upgrade: tcp`; Node hands those to this event, not to the router.
    server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.on("error", () => undefined);
      const raw = req.url ?? "/";
      const q = raw.indexOf("?");
      try {
        const { path: apiPath } = splitVersionPrefix(q < 0 ? raw : raw.slice(0, q));
        const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
        if (attachUpgrade(engine, apiPath, query, req, socket, head) || execUpgrade(engine, apiPath, query, req, socket, head)) return;
        throw new NotImplementedError(`Hangar's engine does not support ${req.method} ${apiPath} with a hijacked connection yet`);
      } catch (err) {
        // No ServerResponse on an upgrade: Docker's error body is written on the socket by hand.
        const body = JSON.stringify(errorBody(err));
        socket.end(`HTTP/1.1 ${statusOf(err)} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    });
    // A `docker load` upload may take longer than Node's default 5-minute limit for receiving a request.
    server.requestTimeout = 0;
    try {
      await listenPrivate(server, socket);
    } catch (err) {
      // Another engine bound the path (or pipe) between the check above and now.
      throw err instanceof SocketInUseError || (err as NodeJS.ErrnoException).code === "EADDRINUSE" ? new EngineAlreadyRunningError(socket) : err;
    }
    return new DockerApiServer(server, socket);
  }

  /** Stops listening, ends open streams (`docker events`) and connections; the socket file goes with the listener. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(router: ApiRouter, req: http.IncomingMessage, res: http.ServerResponse, options: ApiServerOptions): Promise<void> {
  const method = req.method ?? "GET";
  // A client that resets mid-request is the route's concern (it sees the stream end); never the process's.
  req.on("error", () => undefined);
  res.on("error", () => undefined);
  // Split by hand: `new URL` would read a path starting with "//" as a host.
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const pathname = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  // Docker's version middleware sets these on every response.
  res.setHeader("Api-Version", API_VERSION);
  res.setHeader("Docker-Experimental", "false");
  res.setHeader("Ostype", "linux");
  res.setHeader("Server", `Hangar/${product.version} (linux)`);
  try {
    const { version, path: apiPath } = splitVersionPrefix(pathname);
    const route = router.match(method, apiPath);
    if (!route) throw new NotImplementedError(`Hangar's engine does not support ${method} ${apiPath} yet`);
    await route.handler({ req, res, method, path: apiPath, version, params: route.params, query });
  } catch (err) {
    const status = statusOf(err);
    if (status === 500) options.log?.(`${method} ${raw} failed: ${err instanceof Error && !(err instanceof HangarError) ? (err.stack ?? errorMessage(err)) : errorMessage(err)}`);
    // A body the handler never read would otherwise stall the connection.
    if (!req.readableEnded) req.resume();
    if (res.headersSent) res.destroy();
    else sendJson(res, status, errorBody(err));
  }
}

/** Whether a server accepts connections on the socket (a dead engine's socket file refuses them). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(true); // accepted but silent: something is there, do not take its socket
    });
    socket.once("error", () => resolve(false));
  });
}
