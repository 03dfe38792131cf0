// A Docker Engine API client (dockerode) for one endpoint, and the one-line
// explanation of why an endpoint did not answer.
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import * as os from "node:os";
import Dockerode from "dockerode";
import { errorMessage, HangarError } from "../../util/errors";
import { parseDockerHost, type DockerEndpoint } from "./docker-endpoint";
import { SshDialStdioAgent } from "./ssh-dial-stdio";

export interface DockerConnection {
  endpoint: DockerEndpoint;
  docker: Dockerode;
  /** Ends open requests and streams (and an SSH login). */
  dispose(): void;
}

/** A TLS file of an endpoint could not be read. */
export class EndpointFileError extends HangarError {}

/**
 * A client for the endpoint. Nothing is dialled until the first request.
 * Throws (DockerHostError, EndpointFileError) when the endpoint itself is
 * unusable: a host that does not parse, a TLS file that cannot be read.
 *
 * Each connection owns an http(s) Agent so that dispose() can end every
 * socket it opened, including long-lived event and log streams.
 */
/**
 * tcp and ssh requests go out with a placeholder socketPath and the agent
 * makes the real connection. A host name in the request would let VS Code's
 * extension-host proxy support (http.proxySupport "override") put its own
 * agent in place of ours — it leaves socket requests alone — and then an
 * ssh:// endpoint's placeholder host is looked up in DNS, and TLS client
 * certificates are dropped.
 */
const ROUTED_BY_AGENT = "hangar-docker-endpoint";

/** Connects to host:port itself, over TLS when given TLS options (CA, client certificate, verification). */
class TcpAgent extends http.Agent {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tlsOptions?: tls.ConnectionOptions,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(_options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const socket = this.tlsOptions
      ? tls.connect({ ...this.tlsOptions, host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host })
      : net.connect({ host: this.host, port: this.port });
    // Node's Agent reads connect errors from the socket's "error" event; the callback form is for agents that connect asynchronously.
    void callback;
    return socket;
  }
}

export function connectDocker(endpoint: DockerEndpoint): DockerConnection {
  const parsed = parseDockerHost(endpoint.host, { tls: !!endpoint.tls });
  let agent: http.Agent;
  let options: Dockerode.DockerOptions & { agent: http.Agent };
  switch (parsed.kind) {
    case "unix":
    case "npipe":
      agent = new http.Agent();
      options = { socketPath: parsed.path, host: undefined, agent };
      break;
    case "tcp": {
      const files = endpoint.tls ? { ca: readPem(endpoint, "ca"), cert: readPem(endpoint, "cert"), key: readPem(endpoint, "key") } : undefined;
      agent = new TcpAgent(parsed.host, parsed.port, files && { ...files, rejectUnauthorized: endpoint.tls!.verify });
      options = { socketPath: ROUTED_BY_AGENT, host: undefined, ca: undefined, cert: undefined, key: undefined, agent };
      break;
    }
    case "ssh":
      agent = new SshDialStdioAgent({
        host: parsed.host,
        port: parsed.port,
        username: parsed.user ?? os.userInfo().username,
        ...(endpoint.identityFile ? { identityFile: endpoint.identityFile } : {}),
      });
      options = { socketPath: ROUTED_BY_AGENT, host: undefined, ca: undefined, cert: undefined, key: undefined, agent };
      break;
  }
  const docker = withoutDockerEnv(() => new Dockerode({ timeout: undefined, ...options }));
  return { endpoint, docker, dispose: () => agent.destroy() };
}

function readPem(endpoint: DockerEndpoint, which: "ca" | "cert" | "key"): Buffer | undefined {
  const file = endpoint.tls?.[which];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new EndpointFileError(
      `${endpoint.name}: cannot read the TLS ${which === "ca" ? "CA certificate" : which === "cert" ? "client certificate" : "client key"} ${file} (${errorMessage(err)}).`,
      "Fix the endpoint's TLS file paths.",
    );
  }
}

/**
 * docker-modem folds DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY… of
 * this process into every client it makes (and throws when those files are
 * missing), so an endpoint would not mean what it says. The variables are
 * hidden only for the synchronous constructor call.
 */
function withoutDockerEnv<T>(make: () => T): T {
  const names = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CLIENT_TIMEOUT", "DOCKER_PATH_PREFIX"];
  const saved = new Map<string, string>();
  for (const n of names) {
    const v = process.env[n];
    if (v !== undefined) saved.set(n, v);
    delete process.env[n];
  }
  try {
    return make();
  } finally {
    for (const [n, v] of saved) process.env[n] = v;
  }
}

interface ErrorShape {
  code?: unknown;
  statusCode?: unknown;
  json?: unknown;
  level?: unknown;
  message?: unknown;
}

const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

/**
 * One line saying why a request to the endpoint failed: for Engine API
 * errors the API's own message; for a lost or unreachable endpoint what was
 * tried and what to do.
 */
export function describeDockerError(err: unknown, endpoint: DockerEndpoint): string {
  if (err instanceof HangarError) return oneLine(err.message);
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorShape;
  const at = endpoint.host;
  if (typeof e.statusCode === "number") return oneLine(apiMessage(e) || `${at} answered HTTP ${e.statusCode}.`);
  const code = typeof e.code === "string" ? e.code : "";
  const local = at.startsWith("unix://") || at.startsWith("npipe://");
  const what = at.startsWith("npipe://") ? "pipe" : "socket";
  switch (code) {
    case "ENOENT":
      return local ? `No Docker Engine at ${at}: the ${what} does not exist. Start the engine, or choose another endpoint.` : `${at}: ${errorMessage(err)}`;
    case "ECONNREFUSED":
      return local
        ? `No Docker Engine at ${at}: the ${what} refused the connection (the engine stopped and left it behind?). Start the engine again.`
        : `No Docker Engine at ${at}: connection refused. Check that the engine is running and listens on that port.`;
    case "EACCES":
    case "EPERM":
      return local ? `Permission denied opening ${at}. Add your user to the "docker" group (sudo usermod -aG docker $USER), then log in again.` : `Permission denied connecting to ${at}.`;
    case "ETIMEDOUT":
    case "ESOCKETTIMEDOUT":
    case "ECONNABORTED":
      return `Timed out reaching ${at}. Check that the host is up and reachable from here.`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot find the host of ${at} (unknown host name). Check the endpoint's address.`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `Cannot reach ${at}: no route to the host. Check the network.`;
    case "ECONNRESET":
    case "EPIPE":
      return `${at} closed the connection before answering${at.startsWith("tcp://") && !endpoint.tls ? " (does it expect TLS?)" : ""}.`;
  }
  if (TLS_VERIFY_CODES.has(code)) {
    return `TLS: the certificate of ${at} is not signed by a trusted CA${endpoint.tls?.ca ? ` (${endpoint.tls.ca})` : ""} [${code}]. Use the CA that signed the server's certificate, or turn verification off for this endpoint.`;
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS: the certificate of ${at} is for another host name. ${errorMessage(err)}`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `TLS: the certificate of ${at} is not valid now [${code}].`;
  if (code.startsWith("ERR_SSL_") || code === "EPROTO" || code.startsWith("ERR_TLS_")) {
    const m = errorMessage(err);
    if (/certificate required|handshake failure|bad certificate|unknown ca/i.test(m + code)) {
      return `TLS: ${at} rejected this client's certificate [${code}]. Give the endpoint a client certificate and key signed by the CA the engine trusts.`;
    }
    if (/wrong version number|packet length too long/i.test(m + code)) return `TLS: ${at} does not speak TLS [${code}]. Turn TLS off for this endpoint, or check the port.`;
    return `TLS handshake with ${at} failed [${code}]: ${oneLine(m)}`;
  }
  if (e.level === "client-authentication") return `${at}: SSH login failed (${errorMessage(err)}).`;
  if (e.level === "client-timeout") return `Timed out waiting for the SSH handshake with ${at}.`;
  if (/socket hang up/i.test(errorMessage(err))) return `${at} closed the connection before answering.`;
  return oneLine(`${at}: ${errorMessage(err)}`);
}

function apiMessage(e: ErrorShape): string {
  const json = e.json;
  if (json && typeof json === "object" && !Buffer.isBuffer(json) && typeof (json as { message?: unknown }).message === "string") return (json as { message: string }).message;
  if (typeof json === "string" && json.trim()) return json.trim();
  if (Buffer.isBuffer(json) && json.length) return json.toString("utf8").trim();
  // dockerode's own text: "(HTTP code 404) no such container - <message> "
  return typeof e.message === "string" ? e.message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, "").trim() : "";
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}
