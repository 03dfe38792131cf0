import { promises as fs } from "node:fs";
import { Client, type ClientChannel, type PseudoTtyOptions, type SFTPWrapper } from "ssh2";
import { HangarError } from "../util/errors";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * An SSH session to a running machine through its 127.0.0.1 relay, from any
 * process (CLI, extension host). Exec streams output, separates stderr,
 * returns the exit code, and can feed stdin (uploads).
 */
export class MachineSession {
  private channels = 0;
  private lastActivity = Date.now();

  /** The connection's last error after it was ready (ssh2 reports it before "close"), for the log. */
  private lastError?: Error;

  private constructor(private readonly client: Client) {
    client.on("error", (err) => (this.lastError = err));
  }

  /** Commands, shells and connections open on the session now (the engine machine is idle at 0). */
  get openChannels(): number {
    return this.channels;
  }

  /** When a channel last opened or closed (ms since the epoch). */
  get lastUsed(): number {
    return this.lastActivity;
  }

  /**
   * Counts the channel while it is open. A command's or shell's channel (`session`) also stays open until the guest
   * closes it: Node destroys a duplex once both sides ended, and ssh2's destroy sends CHANNEL_CLOSE — after the
   * guest's EOF but before its exit-status. dropbear then mixes up its channels (the next exec request is refused or
   * answered with a close, though its command runs) and the exit status can be lost. dropbear closes the channel
   * itself after the exit-status.
   */
  private track(ch: ClientChannel, session = false): ClientChannel {
    if (session) {
      const states = ch as unknown as { _readableState?: { autoDestroy: boolean }; _writableState?: { autoDestroy: boolean } };
      if (states._readableState) states._readableState.autoDestroy = false;
      if (states._writableState) states._writableState.autoDestroy = false;
    }
    this.channels++;
    this.lastActivity = Date.now();
    ch.once("close", () => {
      this.channels--;
      this.lastActivity = Date.now();
    });
    return ch;
  }

  /** `user` root for the host's own work (provisioning, sync); people's sessions use the machine's SSH user. */
  static async open(port: number, keyFile: string, user = "root"): Promise<MachineSession> {
    const privateKey = await fs.readFile(keyFile, "utf8");
    const client = new Client();
    await new Promise<void>((resolve, reject) =>
      client
        .once("ready", resolve)
        // .on: ssh2 can report a second error (the socket lost after a handshake timeout); unheard, it would crash the process.
        .on("error", (err) => reject(new HangarError(`SSH to the machine (127.0.0.1:${port}) failed: ${err.message}`)))
        .connect({ host: "127.0.0.1", port, username: user, privateKey, readyTimeout: 30_000 }),
    );
    return new MachineSession(client);
  }

  /**
   * `retryRefused`: the command only reads, so when the exec request is
   * refused (ssh2's "Unable to exec") it is asked again, up to three times.
   * Bookworm's dropbear 2022.83 (boxes before revision 7) did that on a busy
   * machine, having closed the channel before the request came (dropbear
   * #321), and could run the command even so: a command given as a
   * function is made again for each attempt (a helper folder it names must
   * be a new one).
   */
  run(command: Command, o: { stdin?: Buffer | string; onStdout?(d: Buffer): void; onStderr?(d: Buffer): void; retryRefused?: boolean } = {}): Promise<RunResult> {
    return this.refusedRetries(o.retryRefused, () => this.runOnce(commandText(command), o));
  }

  private async refusedRetries<T>(retry: boolean | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!retry || i >= 4 || !(err instanceof HangarError) || !/Unable to exec/.test(err.message)) throw err;
        await new Promise((r) => setTimeout(r, 250 * i));
      }
    }
  }

  private runOnce(command: string, o: { stdin?: Buffer | string; onStdout?(d: Buffer): void; onStderr?(d: Buffer): void }): Promise<RunResult> {
    checkLength(command);
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, ch) => {
        if (err) return reject(new HangarError(`Running a command in the machine failed: ${err.message}`));
        this.track(ch, true);
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code = -1;
        ch.on("data", (d: Buffer) => (out.push(d), o.onStdout?.(d)));
        ch.stderr.on("data", (d: Buffer) => (errs.push(d), o.onStderr?.(d)));
        ch.on("exit", (c: number | null) => (code = c ?? -1));
        ch.on("close", () => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(errs).toString() }));
        if (o.stdin !== undefined) ch.end(o.stdin);
        else ch.end();
      });
    });
  }

  /**
   * A command's channel, for streaming both ways (binary stdin/stdout, a
   * caller-ended stdin) and, with `pty`, a terminal the guest allocates
   * (resized with channel.setWindow).
   */
  exec(command: Command, o: { pty?: PseudoTtyOptions; retryRefused?: boolean } = {}): Promise<ClientChannel> {
    return this.refusedRetries(o.retryRefused, () => this.execOnce(commandText(command), o));
  }

  private execOnce(command: string, o: { pty?: PseudoTtyOptions }): Promise<ClientChannel> {
    checkLength(command);
    return new Promise((resolve, reject) => {
      this.client.exec(command, o.pty ? { pty: o.pty } : {}, (err, channel) => {
        if (err) return reject(new HangarError(`Running a command in the machine failed: ${err.message}`));
        resolve(this.track(channel, true));
      });
    });
  }

  /** An interactive shell on a pty; several may run at once on one session. */
  shell(pty: PseudoTtyOptions): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.shell(pty, (err, channel) => (err ? reject(new HangarError(`Opening a shell in the machine failed: ${err.message}`)) : resolve(this.track(channel, true))));
    });
  }

  /** A TCP connection made by the guest (SSH direct-tcpip), e.g. to a container's address on a bridge inside it. */
  connectTcp(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut("127.0.0.1", 0, host, port, (err, channel) =>
        err ? reject(new HangarError(`Connecting to ${host}:${port} in the machine failed: ${err.message}`)) : resolve(this.track(channel)),
      );
    });
  }

  /** The guest's SFTP subsystem (Debian's sftp-server in the default box) on a channel of this session. */
  sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) return reject(new HangarError(`Opening SFTP in the machine failed: ${err.message}`));
        this.channels++;
        this.lastActivity = Date.now();
        sftp.once("close", () => {
          this.channels--;
          this.lastActivity = Date.now();
        });
        resolve(sftp);
      });
    });
  }

  /** Called once when the connection ends (guest halted, network lost), with the error that ended it if there was one. */
  onClose(listener: (error?: Error) => void): void {
    this.client.once("close", () => listener(this.lastError));
  }

  close(): void {
    this.client.end();
  }

  /**
   * Ends the connection and waits (at most `ms`) until it has closed, so the
   * guest has seen the end: a machine saved right after a bare close() keeps
   * the server's side of it open in the snapshot.
   */
  async closeAndWait(ms = 3000): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.client.once("close", () => (clearTimeout(timer), resolve()));
    });
    this.client.end();
    await closed;
  }
}

/** A guest command line, or what makes one afresh for each attempt. */
export type Command = string | (() => string);

function commandText(c: Command): string {
  return typeof c === "function" ? c() : c;
}

/** dropbear's longest string in a packet (MAX_STRING_LEN, which MAX_CMD_LEN sets): a longer exec command ends the whole connection. */
export const MAX_COMMAND_BYTES = 9000;

function checkLength(command: string): void {
  const bytes = Buffer.byteLength(command);
  if (bytes > MAX_COMMAND_BYTES)
    throw new HangarError(`A command for the machine is ${bytes} bytes, past the SSH server's ${MAX_COMMAND_BYTES}-byte limit (it would drop the connection): ${command.slice(0, 120)}…`);
}
