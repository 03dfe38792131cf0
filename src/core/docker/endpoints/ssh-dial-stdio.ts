// HTTP to a Docker Engine on another machine over SSH, the way the docker CLI
// reaches ssh:// hosts: log in once, and for each HTTP connection run
// `docker system dial-stdio` on the remote, which pipes its stdin/stdout to
// the remote engine's socket.
//
// Why not docker-modem's own `protocol: "ssh"`: it calls connect() again on
// one ssh2 Client for every HTTP connection, so a second concurrent request
// (a list while an events stream is open) breaks the first. Here one Client
// per agent is connected lazily, once, and each connection is a new exec
// channel on it. OpenSSH allows 10 sessions per connection (MaxSessions), so
// at most that many requests can be open at once; another one fails clearly.
import { readFile } from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { errorMessage, HangarError } from "../../util/errors";

export interface SshDialOptions {
  host: string;
  port: number;
  username: string;
  /** The private key to log in with; without one, the SSH agent and then ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  identityFile?: string;
  /** For SSH_AUTH_SOCK (default: process.env). */
  env?: NodeJS.ProcessEnv;
  homedir?: string;
  /** How long the SSH handshake and login may take (default 20 s). */
  readyTimeoutMs?: number;
}

export type SshFailure = "connect" | "auth" | "remote" | "closed";

/** An SSH endpoint could not be reached or used; the message says which step failed and why. */
export class SshEndpointError extends HangarError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly failure: SshFailure,
    readonly original?: unknown,
  ) {
    super(message, hint);
  }
}

const DIAL_STDIO = "docker system dial-stdio";
const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];
const MAX_STDERR = 4096;

export class SshDialStdioAgent extends http.Agent {
  private client: Promise<Client> | undefined;
  private live: Client | undefined;
  private disposed = false;
  private readonly target: string;

  constructor(private readonly o: SshDialOptions) {
    super({ keepAlive: false });
    this.target = `ssh://${o.username}@${o.host}:${o.port}`;
  }

  override createConnection(_options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const done = callback ?? (() => undefined);
    this.openChannel().then(
      (socket) => done(null, socket),
      (err: Error) => done(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  /** Ends the SSH connection and every request on it. */
  dispose(): void {
    this.disposed = true;
    this.live?.end();
    this.live = undefined;
    this.client = undefined;
    super.destroy();
  }

  override destroy(): void {
    this.dispose();
  }

  private async openChannel(): Promise<Duplex> {
    const client = await this.connected();
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      try {
        client.exec(DIAL_STDIO, (err, ch) => (err ? reject(err) : resolve(ch)));
      } catch (err) {
        reject(err);
      }
    }).catch((err: unknown) => {
      throw new SshEndpointError(
        `${this.target}: the SSH server did not open a session for \`${DIAL_STDIO}\` (${errorMessage(err)}).`,
        "OpenSSH allows 10 sessions per connection (MaxSessions); close some streams, or raise MaxSessions on the server.",
        "remote",
        err,
      );
    });
    return new DialStdioSocket(channel, this.target);
  }

  private connected(): Promise<Client> {
    if (this.disposed) return Promise.reject(new SshEndpointError(`${this.target}: the connection was closed.`, undefined, "closed"));
    this.client ??= this.connect().catch((err: unknown) => {
      this.client = undefined; // the next request tries again
      throw err;
    });
    return this.client;
  }

  private async connect(): Promise<Client> {
    const { config, tried } = await this.credentials();
    const client = new Client();
    return new Promise<Client>((resolve, reject) => {
      let ready = false;
      client.once("ready", () => {
        ready = true;
        if (this.disposed) {
          client.end();
          reject(new SshEndpointError(`${this.target}: the connection was closed.`, undefined, "closed"));
          return;
        }
        this.live = client;
        resolve(client);
      });
      client.on("error", (err: Error & { level?: string }) => {
        if (!ready) reject(this.connectError(err, tried));
      });
      client.once("close", () => {
        if (!ready) reject(new SshEndpointError(`${this.target}: the SSH server closed the connection during login.`, undefined, "connect"));
        if (this.live === client) {
          this.live = undefined;
          this.client = undefined;
        }
      });
      try {
        client.connect(config);
      } catch (err) {
        reject(new SshEndpointError(`${this.target}: cannot use the SSH key (${errorMessage(err)}).`, "A key with a passphrase must be loaded into an SSH agent (ssh-add) instead.", "auth", err));
      }
    });
  }

  private async credentials(): Promise<{ config: ConnectConfig; tried: string }> {
    const env = this.o.env ?? process.env;
    const config: ConnectConfig = {
      host: this.o.host,
      port: this.o.port,
      username: this.o.username,
      readyTimeout: this.o.readyTimeoutMs ?? 20_000,
      // A dead server must fail an open events stream, not leave it hanging.
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      // Host keys are accepted without a known_hosts check (out of scope for
      // now): the endpoint is one the user named, as with `docker -H ssh://`.
      hostVerifier: () => true,
    };
    if (this.o.identityFile) {
      config.privateKey = await readFile(this.o.identityFile).catch((err: unknown) => {
        throw new SshEndpointError(`${this.target}: cannot read the identity file ${this.o.identityFile} (${errorMessage(err)}).`, "Fix the endpoint's identityFile.", "auth", err);
      });
      return { config, tried: `the identity file ${this.o.identityFile}` };
    }
    if (env.SSH_AUTH_SOCK) {
      config.agent = env.SSH_AUTH_SOCK;
      return { config, tried: `the keys in the SSH agent (${env.SSH_AUTH_SOCK})` };
    }
    const sshDir = path.join(this.o.homedir ?? os.homedir(), ".ssh");
    for (const name of DEFAULT_KEYS) {
      const key = await readFile(path.join(sshDir, name)).catch(() => undefined);
      if (key) {
        config.privateKey = key;
        return { config, tried: path.join(sshDir, name) };
      }
    }
    return { config, tried: `no key (no identityFile, no SSH_AUTH_SOCK, none of ${DEFAULT_KEYS.join(", ")} in ${sshDir})` };
  }

  private connectError(err: Error & { level?: string; code?: string }, tried: string): SshEndpointError {
    if (err.level === "client-authentication") {
      return new SshEndpointError(
        `${this.target}: SSH login failed: the server accepted none of ${tried}.`,
        "Give the endpoint an identityFile the server's authorized_keys holds, or add the key to your SSH agent.",
        "auth",
        err,
      );
    }
    if (err.level === "client-timeout") {
      return new SshEndpointError(`${this.target}: timed out waiting for the SSH handshake.`, "Check that the host is up and that this port is its SSH server.", "connect", err);
    }
    const why = err.code === "ECONNREFUSED" ? "connection refused (no SSH server on that port)" : err.code === "ENOTFOUND" ? "unknown host name" : errorMessage(err);
    return new SshEndpointError(`${this.target}: cannot connect over SSH: ${why}.`, undefined, "connect", err);
  }
}

/**
 * The socket HTTP sees: an exec channel's stdout/stdin. When the remote
 * command fails before answering (docker missing, the remote engine down),
 * the channel just closes; this turns that into an error carrying the
 * remote's exit code and stderr, so the request fails with the real reason
 * instead of "socket hang up".
 */
class DialStdioSocket extends Duplex {
  private stderr = "";
  private exit: { code?: number; signal?: string } | undefined;
  private gotData = false;
  private timer: NodeJS.Timeout | undefined;
  private idleMs = 0;

  constructor(
    private readonly channel: ClientChannel,
    private readonly target: string,
  ) {
    super({ allowHalfOpen: true });
    channel.on("data", (d: Buffer) => {
      this.gotData = true;
      this.touch();
      if (!this.push(d)) channel.pause();
    });
    channel.stderr.on("data", (d: Buffer) => {
      if (this.stderr.length < MAX_STDERR) this.stderr += d.toString("utf8");
    });
    channel.on("exit", (code: number | null, signal?: string) => {
      this.exit = { ...(code != null ? { code } : {}), ...(signal ? { signal } : {}) };
    });
    channel.on("close", () => this.channelClosed());
    channel.on("error", (err: Error) => this.destroy(err));
  }

  private channelClosed(): void {
    this.clearTimer();
    if (this.destroyed) return;
    // The remote command reports its exit before the channel closes; no exit
    // status means the connection itself went away mid-request.
    if (this.exit?.code === 0) {
      this.push(null);
      return;
    }
    if (!this.exit) {
      this.destroy(new SshEndpointError(`${this.target}: the SSH connection closed ${this.gotData ? "during" : "before"} the answer.`, undefined, "closed"));
      return;
    }
    const status = this.exit.signal ? `signal ${this.exit.signal}` : `exit code ${this.exit.code}`;
    const stderr = this.stderr.trim().replace(/\s+/g, " ");
    this.destroy(
      new SshEndpointError(
        `${this.target}: \`${DIAL_STDIO}\` failed on the remote (${status})${stderr ? `: ${stderr}` : ""}.`,
        /not found|No such file/i.test(stderr) ? "Install the docker CLI on the remote host (and put it on the PATH of non-interactive SSH sessions)." : undefined,
        "remote",
      ),
    );
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch();
    this.channel.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.channel.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.clearTimer();
    this.channel.close();
    cb(err);
  }

  // net.Socket's methods that http may call on its socket.
  setTimeout(ms: number, cb?: () => void): this {
    this.idleMs = ms;
    if (cb) this.once("timeout", cb);
    this.touch();
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  private touch(): void {
    this.clearTimer();
    if (this.idleMs > 0 && !this.destroyed) this.timer = setTimeout(() => this.emit("timeout"), this.idleMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
