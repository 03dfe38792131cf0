import { promises as fs } from "node:fs";
import * as path from "node:path";
import { BoxStore } from "../../boxes/box-store";
import { DEFAULT_BOX_NAME } from "../../boxes/default-box/default-box-builder";
import { EmbeddedBox } from "../../boxes/embedded-box";
import { MachineRunner, type RunOptions } from "../../machines/machine-runner";
import { MachineSession } from "../../machines/machine-session";
import { HangarError } from "../../util/errors";
import type { ImageStore } from "../images/image-store";
import { GuestRuntime } from "../runtime/guest-runtime";

export interface EngineMachineOptions {
  hangarHome: string;
  memoryMiB: number;
  /** Host folders the machine sees over 9p: the volumes folder and the roots bind mounts may come from (engine-shares.ts). */
  syncedFolders?: RunOptions["syncedFolders"];
  log?(line: string): void;
}

/**
 * The hidden embedded machine containers run in (as Docker Desktop runs
 * dockerd in a VM): made from the default box on the first request that
 * needs it, with its own key under HANGAR_HOME/engine, and one root SSH
 * session every container step goes over.
 */
export class EngineMachine {
  private starting?: Promise<GuestRuntime>;
  private runner?: MachineRunner;
  private session?: MachineSession;

  constructor(
    private readonly o: EngineMachineOptions,
    private readonly images: ImageStore,
  ) {}

  get running(): boolean {
    return this.runner !== undefined;
  }

  /** The runtime, starting the machine first when it is not running. */
  runtime(): Promise<GuestRuntime> {
    if (!this.starting) {
      this.starting = this.start();
      this.starting.catch(() => (this.starting = undefined));
    }
    return this.starting;
  }

  private async start(): Promise<GuestRuntime> {
    const entry = (await new BoxStore(this.o.hangarHome).list()).find((b) => b.name === DEFAULT_BOX_NAME && b.provider === "embedded" && !b.problem);
    if (!entry) throw new HangarError(`The engine runs containers in a machine made from the box ${DEFAULT_BOX_NAME}, which is not installed.`, "Build it once with `hangar box build` (or from the Boxes view), then try again.");
    const box = await EmbeddedBox.open(entry.path);
    const dir = path.join(this.o.hangarHome, "engine");
    await fs.mkdir(dir, { recursive: true });
    const keyFile = path.join(dir, "machine_key");
    this.o.log?.(`starting the engine machine (${this.o.memoryMiB} MiB, box ${entry.name} ${entry.version})`);
    const runner = await MachineRunner.start({ box, memoryMiB: this.o.memoryMiB, keyFile, hostname: "hangar-engine", syncedFolders: this.o.syncedFolders });
    try {
      const session = await MachineSession.open(runner.sshPort, keyFile);
      session.onClose(() => {
        // The guest went away (it crashed or was stopped): the next request starts a new one.
        this.runner = undefined;
        this.session = undefined;
        this.starting = undefined;
      });
      this.runner = runner;
      this.session = session;
      return new GuestRuntime(session, this.images);
    } catch (err) {
      await runner.stop().catch(() => undefined);
      throw err;
    }
  }

  /** The engine machine's kernel release, when it runs (what `docker info` reports). */
  async kernelVersion(): Promise<string | undefined> {
    if (!this.session) return undefined;
    return (await this.session.run("uname -r")).stdout.trim() || undefined;
  }

  async stop(): Promise<void> {
    const runner = this.runner;
    this.session?.close();
    this.runner = undefined;
    this.session = undefined;
    this.starting = undefined;
    await runner?.stop();
  }
}
