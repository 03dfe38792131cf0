import { StringDecoder } from "node:string_decoder";
import type { ClientChannel } from "ssh2";
import * as vscode from "vscode";
import { MachineSession } from "../../core/machines/machine-session";
import { errorMessage } from "../../core/util/errors";
import type { HangarContext } from "../hangar-context";
import type { MachineRef } from "../workspace/workspace-machines";

const TRANSCRIPT_BYTES = 64 * 1024;

/**
 * A terminal into a machine: a shell on a pty channel of the machine's SSH
 * session (one session per machine, shared by its terminals). The pty follows
 * the terminal's size, keys (Ctrl-C included) go to the guest as typed, and
 * the terminal closes with the shell's exit code.
 */
export class MachinePty implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private channel?: ClientChannel;
  private dims?: vscode.TerminalDimensions;
  private readonly decoder = new StringDecoder("utf8");
  /** What the guest printed (the tail), for tests and diagnostics. */
  transcript = "";

  constructor(
    readonly target: MachineRef,
    private readonly session: () => Promise<MachineSession>,
  ) {}

  async open(dims: vscode.TerminalDimensions | undefined): Promise<void> {
    this.dims = dims;
    try {
      const session = await this.session();
      const channel = await session.shell({ term: "xterm-256color", cols: this.dims?.columns ?? 80, rows: this.dims?.rows ?? 24 });
      this.channel = channel;
      let code = 0;
      const show = (d: Buffer): void => this.print(this.decoder.write(d));
      channel.on("data", show);
      channel.stderr.on("data", show);
      channel.on("exit", (c: number | null) => (code = c ?? 0));
      channel.on("close", () => this.closeEmitter.fire(code));
    } catch (err) {
      this.print(`\x1b[31mHangar: cannot open a shell in '${this.target.name}': ${errorMessage(err)}\x1b[0m\r\n`);
      this.closeEmitter.fire(1);
    }
  }

  private print(text: string): void {
    this.transcript = (this.transcript + text).slice(-TRANSCRIPT_BYTES);
    this.writeEmitter.fire(text);
  }

  handleInput(data: string): void {
    this.channel?.write(data);
  }

  setDimensions(dims: vscode.TerminalDimensions): void {
    this.dims = dims;
    this.channel?.setWindow(dims.rows, dims.columns, 0, 0);
  }

  /** The size the guest's pty was last given (the terminal's). */
  get dimensions(): vscode.TerminalDimensions | undefined {
    return this.dims;
  }

  close(): void {
    this.channel?.close();
  }
}

/** Opens machine terminals and provides the "Hangar machine shell" terminal profile. */
export class MachineTerminals implements vscode.Disposable {
  private readonly sessions = new Map<string, Promise<MachineSession>>();
  readonly ptys: MachinePty[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly hangar: HangarContext) {
    this.disposables.push(
      vscode.window.registerTerminalProfileProvider("hangar.machineShell", {
        provideTerminalProfile: async () => {
          const running = (await hangar.machines.all()).filter((m) => m.state === "running");
          if (!running.length) throw new Error("No Hangar machine is running: start one from the Machines view first.");
          const target =
            running.length === 1
              ? running[0]
              : (
                  await vscode.window.showQuickPick(
                    running.map((m) => ({ label: m.name, detail: vscode.workspace.asRelativePath(m.vagrantfile), m })),
                    { placeHolder: "Open a shell in which machine?" },
                  )
                )?.m;
          if (!target) throw new Error("No machine chosen.");
          return new vscode.TerminalProfile(this.options(target));
        },
      }),
    );
  }

  open(target: MachineRef): vscode.Terminal {
    return vscode.window.createTerminal(this.options(target));
  }

  private options(target: MachineRef): vscode.ExtensionTerminalOptions {
    const pty = new MachinePty(target, () => this.session(target));
    this.ptys.push(pty);
    pty.onDidClose(() => this.ptys.splice(this.ptys.indexOf(pty), 1));
    return { name: `${target.name} (Hangar)`, pty, iconPath: new vscode.ThemeIcon("vm-running") };
  }

  /** The machine's SSH session, opened on first use and reopened after it ends (halt, reload). */
  private session(target: MachineRef): Promise<MachineSession> {
    const key = `${target.vagrantfile}#${target.name}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        const ssh = await this.hangar.machines.project(target.vagrantfile).sshTarget(target.name);
        const session = await MachineSession.open(ssh.port, ssh.keyFile, ssh.user);
        session.onClose(() => this.sessions.delete(key));
        return session;
      })();
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const s of this.sessions.values())
      void s.then(
        (x) => x.close(),
        () => undefined,
      );
    this.sessions.clear();
  }
}
