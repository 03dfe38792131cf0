import { fork, type ChildProcess } from "node:child_process";
import { HangarError } from "../util/errors";
import { locateRubyRuntime, type RubyRuntime } from "./ruby-runtime";
import type { EvaluationRecord } from "./vagrant-record";

export class VagrantfileTimeoutError extends HangarError {
  constructor(file: string, seconds: number) {
    super(`Evaluating ${file} did not finish within ${seconds} s (an endless loop?); Ruby was stopped.`, "Fix the Vagrantfile and save it again.");
  }
}

/** What evaluates a Vagrantfile's Ruby: a Ruby process of its own (RubyEvaluator) or the machine daemon's (DaemonEvaluator). */
export interface VagrantfileEvaluator {
  evaluate(source: string, file: string, env: Record<string, string>): Promise<EvaluationRecord>;
  dispose(): void;
}

interface Pending {
  resolve(record: EvaluationRecord): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  file: string;
}

/**
 * Evaluates Vagrantfiles in one long-lived Ruby process (ruby-host.ts),
 * started on first use — never at activation — and reused, so only the first
 * evaluation pays for loading Ruby. A hung or crashed Ruby is killed and the
 * next evaluation starts a fresh one; the caller only ever sees an error.
 */
export class RubyEvaluator implements VagrantfileEvaluator {
  private child?: ChildProcess;
  private ready?: Promise<ChildProcess>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly options: { timeoutMs?: number; runtime?: RubyRuntime } = {}) {}

  evaluate(source: string, file: string, env: Record<string, string>): Promise<EvaluationRecord> {
    return this.start().then(
      (child) =>
        new Promise<EvaluationRecord>((resolve, reject) => {
          const id = this.nextId++;
          const timeoutMs = this.options.timeoutMs ?? 30_000;
          const timer = setTimeout(() => {
            this.pending.delete(id);
            reject(new VagrantfileTimeoutError(file, timeoutMs / 1000));
            this.stop();
          }, timeoutMs);
          this.pending.set(id, { resolve, reject, timer, file });
          child.send({ id, source, file, env });
        }),
    );
  }

  private start(): Promise<ChildProcess> {
    if (this.ready) return this.ready;
    const runtime = this.options.runtime ?? locateRubyRuntime();
    const child = fork(runtime.hostScript, [], {
      execArgv: runtime.execArgv,
      // Inside VS Code, execPath is Electron: make it behave as Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1", NODE_OPTIONS: "" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "json",
    });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      child.on("message", (msg: { ready?: true; fatal?: string; id?: number; json?: string; crash?: string }) => {
        if (msg.ready) return resolve(child);
        if (msg.fatal) return reject(new HangarError(`Ruby could not start: ${msg.fatal}`));
        const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id!);
        clearTimeout(p.timer);
        if (msg.crash !== undefined) p.reject(new HangarError(`Ruby failed while evaluating ${p.file}: ${msg.crash}`));
        else p.resolve(JSON.parse(msg.json!) as EvaluationRecord);
      });
      child.on("exit", (code, signal) => {
        const why = new HangarError(`The Ruby process stopped (${signal ?? `exit ${code}`}) while evaluating a Vagrantfile.${stderr ? ` ${stderr.trim().split("\n").slice(-3).join(" ")}` : ""}`);
        reject(why);
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(why);
          this.pending.delete(id);
        }
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
      });
    });
    // An idle Ruby process must not keep a CLI run alive.
    child.unref();
    child.channel?.unref();
    return this.ready;
  }

  private stop(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    child?.kill("SIGKILL");
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.stop();
  }
}
