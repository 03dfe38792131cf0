import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type PseudoTtyOptions } from "ssh2";
import { HangarError } from "../util/errors";

export interface ExecResult {
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  onStdout?(chunk: Buffer): void;
  onStderr?(chunk: Buffer): void;
  signal?: AbortSignal;
  env?: Record<string, string>;
}

/**
 * One SSH connection to a guest, reused for every exec and shell, as Vagrant
 * does — but over a stream into the emulator's network stack, so no host port
 * is opened. Exec gives stdout and stderr apart and the exit code.
 */
export class GuestSsh {
  private constructor(private readonly client: Client) {}

  static connect(sock: Duplex, privateKey: string | Buffer, options: { username?: string; timeoutMs?: number } = {}): Promise<GuestSsh> {
    const client = new Client();
    return new Promise((resolve, reject) => {
      client
        .once("ready", () => resolve(new GuestSsh(client)))
        .once("error", (err) => reject(new HangarError(`SSH into the guest failed: ${err.message}`)))
        .connect({ sock, username: options.username ?? "root", privateKey, readyTimeout: options.timeoutMs ?? 30_000, keepaliveInterval: 0 });
    });
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, options.env ? { env: options.env } : {}, (err, channel) => {
        if (err) return reject(new HangarError(`Running a command in the guest failed: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code = -1;
        let signal: string | undefined;
        const onAbort = (): void => {
          channel.signal("INT");
          channel.close();
        };
        options.signal?.addEventListener("abort", onAbort, { once: true });
        channel.on("data", (d: Buffer) => (out.push(d), options.onStdout?.(d)));
        channel.stderr.on("data", (d: Buffer) => (errOut.push(d), options.onStderr?.(d)));
        channel.on("exit", (c: number | null, s?: string) => {
          if (c !== null) code = c;
          if (s) signal = s;
        });
        channel.on("close", () => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve({ code, ...(signal ? { signal } : {}), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errOut).toString() });
        });
      });
    });
  }

  /** An interactive shell on a pty; the caller pipes it and calls setWindow on resize. */
  shell(pty: PseudoTtyOptions): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.shell(pty, (err, channel) => (err ? reject(new HangarError(`Opening a shell in the guest failed: ${err.message}`)) : resolve(channel)));
    });
  }

  end(): void {
    this.client.end();
  }
}
