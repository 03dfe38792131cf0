import type { EvaluationRecord } from "../vagrantfile/vagrant-record";
import { RubyEvaluator, type VagrantfileEvaluator } from "../vagrantfile/ruby-evaluator";
import { DaemonClient } from "./daemon-client";

/**
 * Evaluates Vagrantfiles in the machine daemon's Ruby when a daemon runs for
 * the home (it keeps Ruby loaded between commands, so `hangar status` or
 * `hangar ssh` next to a running machine does not load Ruby again, about
 * 2 s each), else in a Ruby process of its own. It never starts a daemon.
 * The daemon evaluates with the environment given here, as the CLI would.
 */
export class DaemonEvaluator implements VagrantfileEvaluator {
  private client?: Promise<DaemonClient | undefined>;
  private local?: RubyEvaluator;
  /** Where the last evaluation ran: the daemon's Ruby, or this process's own. */
  lastRanIn?: "daemon" | "own";

  constructor(private readonly hangarHome: string) {}

  async evaluate(source: string, file: string, env: Record<string, string>): Promise<EvaluationRecord> {
    const client = await (this.client ??= DaemonClient.connect(this.hangarHome, { start: false }).catch(() => undefined));
    if (client) {
      try {
        const record = (await client.call("evaluate", { source, file, env })) as EvaluationRecord;
        this.lastRanIn = "daemon";
        return record;
      } catch (err) {
        // A Vagrantfile that runs too long would run too long here as well; anything else (a daemon of an older
        // Hangar that has no evaluate, one that went away) leaves it to a Ruby of this process's own.
        if (/did not finish within/.test((err as Error).message)) throw err;
      }
    }
    this.lastRanIn = "own";
    return (this.local ??= new RubyEvaluator()).evaluate(source, file, env);
  }

  dispose(): void {
    this.local?.dispose();
    void this.client?.then((c) => c?.close());
  }
}
