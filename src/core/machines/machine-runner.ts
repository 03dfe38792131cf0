import { promises as fs } from "node:fs";
import { utils as sshUtils } from "ssh2";
import type { EmbeddedBox } from "../boxes/embedded-box";
import { Emulator } from "../emulator/emulator-host";
import { product } from "../product";
import { GuestSsh } from "../ssh/guest-ssh";
import { writeFileAtomic } from "../util/atomic-file";
import { HangarError } from "../util/errors";
import { SshRelay } from "./ssh-relay";

export type Progress = (fraction: number, message: string) => void;

export interface RunOptions {
  box: EmbeddedBox;
  memoryMiB: number;
  /** The machine's own private key (OpenSSH format); created on first up. */
  keyFile: string;
  /** A suspended machine's state to resume from, instead of the box's booted state. */
  resumeFrom?: string;
  hostname?: string | null;
  /** Preferred 127.0.0.1 port for the SSH relay (0 = any). */
  sshPort?: number;
  onProgress?: Progress;
  onSerial?(line: string): void;
  bootTimeoutMs?: number;
}

/**
 * One running embedded machine: its emulator (in a worker), one SSH
 * connection reused for every command, and a relay on 127.0.0.1 for other
 * processes (the CLI, ssh, scp). `up` restores the box's booted state when it
 * exists and boots cold once to make it otherwise.
 */
export class MachineRunner {
  private sshSession?: Promise<GuestSsh>;

  private constructor(
    readonly emulator: Emulator,
    readonly relay: SshRelay,
    private readonly keyFile: string,
  ) {}

  /** The machine's SSH connection, opened on first use and then reused. */
  ssh(): Promise<GuestSsh> {
    this.sshSession ??= fs.readFile(this.keyFile, "utf8").then((key) => GuestSsh.connect(this.emulator.connect(22), key));
    return this.sshSession;
  }

  static async start(o: RunOptions): Promise<MachineRunner> {
    const progress = o.onProgress ?? (() => undefined);
    const emulatorVersion = product.v86Version;
    const booted = o.box.bootedStateFile(o.memoryMiB, emulatorVersion);
    const common = { biosFile: o.box.file("bios"), vgaBiosFile: o.box.file("vgaBios"), memoryMiB: o.memoryMiB };
    let emulator: Emulator;
    if (o.resumeFrom) {
      progress(0.2, "Resuming the saved machine state");
      emulator = await Emulator.start({ ...common, stateFile: o.resumeFrom });
    } else if (await exists(booted)) {
      progress(0.2, "Restoring the box's booted state");
      emulator = await Emulator.start({ ...common, stateFile: booted });
    } else {
      progress(0.05, "Booting the box for the first time (its booted state is saved for next time)");
      emulator = await Emulator.start({ ...common, kernelFile: o.box.file("kernel"), initrdFile: o.box.file("initrd"), cmdline: o.box.metadata.cmdline });
      await waitForSerial(emulator, o.box.metadata.readyMarker, o.bootTimeoutMs ?? 300_000, o.onSerial);
      progress(0.5, "Saving the booted state");
      await emulator.save(booted);
    }
    try {
      progress(0.7, "Installing the machine's key");
      await MachineRunner.installMachineKey(emulator, o);
      const relay = await SshRelay.listen(() => emulator.connect(22), o.sshPort ?? 0);
      progress(1, "Machine is running");
      return new MachineRunner(emulator, relay, o.keyFile);
    } catch (err) {
      await emulator.stop();
      throw err;
    }
  }

  /**
   * Vagrant's insecure-key scheme, with a per-box bootstrap key replaced by
   * the machine's own — done on the guest's serial console (a root shell the
   * host alone can reach), so `up` pays for no SSH handshake (~1 s of
   * emulated crypto on a freshly restored guest). A resumed guest already has
   * the machine's key.
   */
  private static async installMachineKey(emulator: Emulator, o: RunOptions): Promise<void> {
    if (!(await exists(o.keyFile))) {
      const pair = sshUtils.generateKeyPairSync("ed25519", { comment: "hangar machine key" });
      await writeFileAtomic(o.keyFile, pair.private, { mode: 0o600 });
      await writeFileAtomic(`${o.keyFile}.pub`, pair.public + "\n");
    }
    const commands: string[] = [];
    if (!o.resumeFrom) {
      const pub = Buffer.from((await fs.readFile(`${o.keyFile}.pub`, "utf8")).trim() + "\n").toString("base64");
      commands.push(`umask 077; mkdir -p /root/.ssh; echo ${pub} | base64 -d > /root/.ssh/authorized_keys`);
    }
    if (o.hostname) commands.push(`hostname ${shellQuote(o.hostname)}; echo ${shellQuote(o.hostname)} > /etc/hostname`);
    if (commands.length) await serialRun(emulator, commands.join("; "), 30_000);
  }

  /** Saves the whole guest state to `file` (suspend, snapshots). */
  save(file: string): Promise<number> {
    return this.emulator.save(file);
  }

  /** Runs a command on the guest's serial console and waits until it has finished (no output is returned). */
  serial(command: string, timeoutMs = 30_000): Promise<void> {
    return serialRun(this.emulator, command, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.sshSession) (await this.sshSession.catch(() => undefined))?.end();
    await this.relay.close();
    await this.emulator.stop();
  }
}

/**
 * Types `command` into the serial console's shell and resolves when the guest
 * prints the completion marker. The marker is quoted in the typed line, so the
 * terminal's echo of that line cannot match it.
 */
function serialRun(emulator: Emulator, command: string, timeoutMs: number): Promise<void> {
  const nonce = Math.random().toString(36).slice(2);
  const done = waitForSerial(emulator, `hangar-done-${nonce}`, timeoutMs, undefined, "answer on its serial console");
  emulator.serial(`(${command}) >/dev/null 2>&1; echo hangar-done-"${nonce}"\n`);
  return done;
}

function waitForSerial(emulator: Emulator, marker: string, timeoutMs: number, onLine?: (line: string) => void, what = "finish booting"): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const timer = setTimeout(() => {
      emulator.off("serial", onSerial);
      reject(new HangarError(`The machine did not ${what} within ${timeoutMs / 1000} s. Last console lines:\n${tail.join("")}`, what === "finish booting" ? "Raise config.vm.boot_timeout, or check the box." : undefined));
    }, timeoutMs);
    const onSerial = (line: string): void => {
      onLine?.(line);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (line.includes(marker)) {
        clearTimeout(timer);
        emulator.off("serial", onSerial);
        resolve();
      }
    };
    emulator.on("serial", onSerial);
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
