import type { Duplex, Readable } from "node:stream";
import { PassThrough } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type Dockerode from "dockerode";
import * as vscode from "vscode";
import { errorMessage } from "../../core/util/errors";
import type { DockerService } from "../docker/docker-service";
import { containerShellCommand, logsTail } from "../../core/docker/shell/container-shell";

const TRANSCRIPT_BYTES = 64 * 1024;

/** An interactive session a terminal drives: a hijacked API stream with a TTY. */
export interface TtySession {
  stream: Duplex;
  resize(dims: vscode.TerminalDimensions): Promise<unknown>;
  /** The exit code once the stream has ended. */
  exitCode(): Promise<number>;
}

/** What every Hangar Docker terminal shares: a transcript for tests, text written with CRLF where needed. */
abstract class DockerPty implements vscode.Pseudoterminal {
  protected readonly writeEmitter = new vscode.EventEmitter<string>();
  protected readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  transcript = "";
  closed = false;

  constructor(readonly title: string) {}

  abstract open(dims: vscode.TerminalDimensions | undefined): void;

  /** Output before VS Code opened the terminal, which would otherwise be lost. */
  private pending: string[] | undefined = [];

  /** Raw TTY output (already CRLF). */
  protected print(text: string): void {
    this.transcript = (this.transcript + text).slice(-TRANSCRIPT_BYTES);
    if (this.pending) this.pending.push(text);
    else this.writeEmitter.fire(text);
  }

  protected markOpen(): void {
    const queued = this.pending ?? [];
    this.pending = undefined;
    if (queued.length) this.writeEmitter.fire(queued.join(""));
  }

  /** Program output without a TTY: bare LFs become CRLFs so lines start at the left. */
  protected printLines(text: string): void {
    this.print(text.replace(/\r?\n/g, "\r\n"));
  }

  protected finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.closeEmitter.fire(code);
  }

  close(): void {
    this.closed = true;
  }
}

/** A shell (`exec -it`) or an attached `run -it`: keys go in as typed, the TTY follows the terminal's size. */
export class TtyPty extends DockerPty {
  private session?: TtySession;
  private dims?: vscode.TerminalDimensions;

  constructor(
    title: string,
    private readonly start: (dims: vscode.TerminalDimensions | undefined) => Promise<TtySession>,
  ) {
    super(title);
  }

  async open(dims: vscode.TerminalDimensions | undefined): Promise<void> {
    this.dims = dims;
    this.markOpen();
    try {
      const session = await this.start(dims);
      this.session = session;
      const decoder = new StringDecoder("utf8");
      session.stream.on("data", (d: Buffer) => this.print(decoder.write(d)));
      const ended = (): void =>
        void session.exitCode().then(
          (c) => this.finish(c),
          () => this.finish(0),
        );
      session.stream.once("end", ended);
      session.stream.once("close", ended);
      if (this.dims) await session.resize(this.dims).catch(() => undefined);
    } catch (err) {
      this.printLines(`\x1b[31m${errorMessage(err)}\x1b[0m\n`);
      this.finish(1);
    }
  }

  handleInput(data: string): void {
    this.session?.stream.write(data);
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    this.dims = dims;
    void this.session?.resize(dims).catch(() => undefined);
  }

  get dimensions(): vscode.TerminalDimensions | undefined {
    return this.dims;
  }

  override close(): void {
    super.close();
    this.session?.stream.end();
  }
}

/** Output only (logs -f, a build's log): Ctrl-C or closing the terminal stops following; once the output has ended, any key closes it. */
export class OutputPty extends DockerPty {
  private readonly abort = new AbortController();
  private ended = false;

  constructor(
    title: string,
    private readonly run: (out: (text: string) => void, signal: AbortSignal) => Promise<void>,
  ) {
    super(title);
  }

  open(): void {
    this.markOpen();
    void this.run((t) => this.printLines(t), this.abort.signal).then(
      () => {
        this.ended = true;
        this.printLines("\n\x1b[2m[end of output — press any key to close]\x1b[0m\n");
      },
      (err) => {
        if (this.abort.signal.aborted) return this.finish(0);
        this.printLines(`\n\x1b[31m${errorMessage(err)}\x1b[0m\n`);
      },
    );
  }

  /** Lets code outside `run` write to the terminal (e.g. a build's summary). */
  write(text: string): void {
    this.printLines(text);
  }

  handleInput(data: string): void {
    if (data === "\x03" || this.ended) {
      this.abort.abort();
      this.finish(0);
    }
  }

  override close(): void {
    super.close();
    this.abort.abort();
  }
}

/** Opens the Docker terminals (shells, logs, interactive runs, build logs) and keeps them for tests. */
export class DockerTerminals implements vscode.Disposable {
  readonly ptys: DockerPty[] = [];

  constructor(private readonly docker: DockerService) {}

  dispose(): void {
    for (const pty of [...this.ptys]) pty.close();
  }

  open(pty: DockerPty, icon = "terminal"): vscode.Terminal {
    this.ptys.push(pty);
    pty.onDidClose(() => {
      const i = this.ptys.indexOf(pty);
      if (i >= 0) this.ptys.splice(i, 1);
    });
    const terminal = vscode.window.createTerminal({ name: pty.title, pty, iconPath: new vscode.ThemeIcon(icon) });
    terminal.show();
    return terminal;
  }

  /** A shell in a running container (hangar.containers.shell: bash when the image has it, else sh, by default), on a TTY sized like the terminal. */
  shell(containerId: string, name: string): vscode.Terminal {
    return this.open(
      new TtyPty(`${name} (shell)`, (dims) =>
        this.docker.use(`Opening a shell in ${name}`, async (d) => {
          const exec = await d.getContainer(containerId).exec({
            Cmd: containerShellCommand(vscode.workspace.getConfiguration("hangar").get<string>("containers.shell")),
            AttachStdin: true,
            AttachStdout: true,
            AttachStderr: true,
            Tty: true,
            Env: ["TERM=xterm-256color", ...(dims ? [`COLUMNS=${dims.columns}`, `LINES=${dims.rows}`] : [])],
          });
          const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
          return {
            stream,
            resize: (s) => exec.resize({ h: s.rows, w: s.columns }),
            exitCode: async () => ((await exec.inspect()) as { ExitCode?: number | null }).ExitCode ?? 0,
          };
        }),
      ),
    );
  }

  /** `docker logs -f` in a terminal: the last lines, then new ones as they come. */
  logs(containerId: string, name: string): vscode.Terminal {
    return this.open(
      new OutputPty(`${name} (logs)`, (out, signal) =>
        this.docker.use(`Reading the logs of ${name}`, async (d) => {
          const container = d.getContainer(containerId);
          const tty = ((await container.inspect()) as { Config?: { Tty?: boolean } }).Config?.Tty === true;
          const stream = (await container.logs({ follow: true, stdout: true, stderr: true, ...tailOption(), abortSignal: signal })) as unknown as Readable;
          await followOutput(d, stream, tty, out, signal);
        }),
      ),
      "output",
    );
  }
}

/** Copies a (possibly multiplexed) output stream to the terminal until it ends or is aborted. */
export async function followOutput(d: Dockerode, stream: Readable, tty: boolean, out: (text: string) => void, signal?: AbortSignal): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const sink = new PassThrough();
  sink.on("data", (c: Buffer) => out(decoder.write(c)));
  if (tty) stream.pipe(sink);
  else d.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
    signal?.addEventListener("abort", () => {
      stream.destroy();
      resolve();
    });
  });
}

export type { DockerPty };

/** hangar.containers.logsTail as dockerode's option (none: every line). */
function tailOption(): { tail?: number } {
  const tail = logsTail(vscode.workspace.getConfiguration("hangar").get<number>("containers.logsTail"));
  return tail === undefined ? {} : { tail };
}
