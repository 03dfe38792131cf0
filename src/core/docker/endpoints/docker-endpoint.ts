// Docker endpoints: where a Docker Engine API can be reached (Hangar's own
// engine, DOCKER_HOST, the local daemon, the user's docker contexts, hosts
// from settings) and how their DOCKER_HOST-style addresses are read.
import { HangarError } from "../../util/errors";

export type EndpointSource = "embedded" | "environment" | "local" | "context" | "setting";

export interface DockerEndpoint {
  /** Stable across sessions: "embedded", "environment", "local", "context:<name>", "setting:<name>". */
  id: string;
  /** Shown to users: "Hangar (embedded)", "DOCKER_HOST", "Local Docker", a context's or setting's name. */
  name: string;
  /** unix:///…, npipe:////./pipe/…, tcp://host:port, ssh://user@host[:port]. */
  host: string;
  source: EndpointSource;
  /** PEM file paths; present means the connection uses TLS. */
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  /** ssh:// only: the private key to log in with. */
  identityFile?: string;
}

/** What users write in the `hangar.docker.endpoints` setting. */
export interface ConfiguredEndpoint {
  name: string;
  host: string;
  tls?: { ca?: string; cert?: string; key?: string; verify?: boolean };
  identityFile?: string;
}

export type ParsedDockerHost =
  | { kind: "unix"; path: string }
  | { kind: "npipe"; path: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "ssh"; user?: string; host: string; port: number };

/** A Docker host address that cannot be used; the message names the address and what is wrong. */
export class DockerHostError extends HangarError {
  constructor(
    readonly host: string,
    problem: string,
    hint = "Use unix:///path/to/docker.sock, npipe:////./pipe/name, tcp://host:port or ssh://user@host[:port].",
  ) {
    super(`Docker host "${host}" ${problem}.`, hint);
  }
}

export const DEFAULT_UNIX_SOCKET = "/var/run/docker.sock";
export const DEFAULT_NAMED_PIPE = "\\\\.\\pipe\\docker_engine";

/**
 * Reads a DOCKER_HOST-style address the way the docker CLI does: a bare
 * `host:port` is tcp; tcp's port defaults to 2375, or 2376 with TLS; an empty
 * unix:// or npipe:// path means the default socket or pipe. Named pipe paths
 * come back in Windows form (`\\.\pipe\name`). Throws DockerHostError for
 * anything a client could not dial.
 */
export function parseDockerHost(host: string, o: { tls?: boolean } = {}): ParsedDockerHost {
  const text = host.trim();
  if (!text) throw new DockerHostError(host, "is empty");
  const sep = text.indexOf("://");
  const scheme = sep < 0 ? "tcp" : text.slice(0, sep).toLowerCase();
  const rest = sep < 0 ? text : text.slice(sep + 3);
  switch (scheme) {
    case "unix": {
      const p = rest || DEFAULT_UNIX_SOCKET;
      if (!p.startsWith("/")) throw new DockerHostError(host, "needs an absolute socket path", "Write it as unix:///absolute/path/docker.sock (three slashes).");
      return { kind: "unix", path: p };
    }
    case "npipe": {
      if (!rest) return { kind: "npipe", path: DEFAULT_NAMED_PIPE };
      const p = rest.replace(/\//g, "\\");
      if (!/^\\\\[.]\\pipe\\[^\\]+/i.test(p)) throw new DockerHostError(host, "is not a named pipe path", "Write it as npipe:////./pipe/docker_engine.");
      return { kind: "npipe", path: p };
    }
    case "tcp":
      return parseTcp(host, rest, o.tls === true);
    case "ssh":
      return parseSsh(host, rest);
    case "http":
    case "https":
      throw new DockerHostError(host, `uses ${scheme}://, which Docker hosts do not`, `Write tcp://${rest} instead${scheme === "https" ? " and turn TLS on for this endpoint" : ""}.`);
    case "fd":
      throw new DockerHostError(host, "is a daemon's own listening socket (fd://), which clients cannot dial");
    default:
      throw new DockerHostError(host, `has an unknown scheme "${scheme}://"`);
  }
}

function parseTcp(host: string, rest: string, tls: boolean): ParsedDockerHost {
  const url = parseUrl(host, `tcp://${rest}`);
  if (url.username || url.password)
    throw new DockerHostError(host, "has a user name, which tcp:// hosts do not take", "Remove the user@ part; tcp:// endpoints authenticate with TLS client certificates.");
  if ((url.pathname && url.pathname !== "/") || url.search || url.hash) {
    throw new DockerHostError(host, "has a path after the host and port, which Hangar does not support", "Remove everything after host:port.");
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
  return { kind: "tcp", host: hostname, port: url.port ? checkPort(host, url.port) : tls ? 2376 : 2375 };
}

function parseSsh(host: string, rest: string): ParsedDockerHost {
  const url = parseUrl(host, `ssh://${rest}`);
  if (!url.hostname) throw new DockerHostError(host, "has no host name", "Write it as ssh://user@host or ssh://user@host:port.");
  if (url.password) throw new DockerHostError(host, "has a password in it, which is not supported", "Remove the :password part and log in with a key (identityFile) or an SSH agent.");
  if ((url.pathname && url.pathname !== "/") || url.search || url.hash) {
    throw new DockerHostError(host, "has a path after the host", "Write it as ssh://user@host or ssh://user@host:port.");
  }
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  return { kind: "ssh", ...(user ? { user } : {}), host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: url.port ? checkPort(host, url.port) : 22 };
}

function checkPort(host: string, port: string): number {
  const n = Number(port);
  if (n < 1 || n > 65535) throw new DockerHostError(host, `has port ${port}, outside 1–65535`);
  return n;
}

function parseUrl(host: string, text: string): URL {
  try {
    return new URL(text);
  } catch {
    const port = /:(\d+)$/.exec(text);
    if (port && Number(port[1]) > 65535) throw new DockerHostError(host, `has port ${port[1]}, outside 1–65535`);
    throw new DockerHostError(host, "is not a valid address");
  }
}

/** The same address the same way whatever the spelling: used to drop duplicate endpoints. */
export function dockerHostKey(host: string, o: { tls?: boolean } = {}): string {
  try {
    const p = parseDockerHost(host, o);
    switch (p.kind) {
      case "unix":
        return `unix:${p.path.replace(/\/+/g, "/")}`;
      case "npipe":
        return `npipe:${p.path.toLowerCase()}`;
      case "tcp":
        return `tcp:${p.host.toLowerCase()}:${p.port}`;
      case "ssh":
        return `ssh:${p.user ?? ""}@${p.host.toLowerCase()}:${p.port}`;
    }
  } catch {
    return `raw:${host}`;
  }
}
