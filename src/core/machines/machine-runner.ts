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
  private constructor(
    readonly emulator: Emulator,
    readonly ssh: GuestSsh,
    readonly relay: SshRelay,
  ) {}

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
      progress(0.7, "Connecting over SSH");
      const ssh = await MachineRunner.connectWithMachineKey(emulator, o);
      if (o.hostname) {
        const r = await ssh.exec(`hostname ${shellQuote(o.hostname)} && echo ${shellQuote(o.hostname)} > /etc/hostname`);
        if (r.code !== 0) throw new HangarError(`Setting the hostname to ${o.hostname} failed: ${r.stderr.trim()}`);
      }
      const relay = await SshRelay.listen(() => emulator.connect(22), o.sshPort ?? 0);
      progress(1, "Machine is running");
      return new MachineRunner(emulator, ssh, relay);
    } catch (err) {
      await emulator.stop();
      throw err;
    }
  }

  /** Vagrant's insecure-key scheme, with a per-box bootstrap key replaced by the machine's own. */
  private static async connectWithMachineKey(emulator: Emulator, o: RunOptions): Promise<GuestSsh> {
    let key = await fs.readFile(o.keyFile, "utf8").catch(() => undefined);
    // A resumed guest already trusts the machine's key. A guest booted or
    // restored from the box knows only the box's bootstrap key: log in with it,
    // install the machine's key, and keep that one connection (each SSH
    // handshake costs ~0.6 s of emulated crypto).
    if (key && o.resumeFrom) return GuestSsh.connect(emulator.connect(22), key);
    if (!key) {
      const pair = sshUtils.generateKeyPairSync("ed25519", { comment: "hangar machine key" });
      await writeFileAtomic(o.keyFile, pair.private, { mode: 0o600 });
      await writeFileAtomic(`${o.keyFile}.pub`, pair.public + "\n");
      key = pair.private;
    }
    const bootstrap = await fs.readFile(o.box.file("bootstrapKey"), "utf8");
    const ssh = await GuestSsh.connect(emulator.connect(22), bootstrap);
    const pub = (await fs.readFile(`${o.keyFile}.pub`, "utf8")).trim();
    const r = await ssh.exec(`umask 077 && mkdir -p /root/.ssh && printf '%s\\n' ${shellQuote(pub)} > /root/.ssh/authorized_keys`);
    if (r.code !== 0) {
      ssh.end();
      throw new HangarError(`Installing the machine's SSH key failed: ${r.stderr.trim()}`);
    }
    return ssh;
  }

  /** Saves the whole guest state to `file` (suspend, snapshots). */
  save(file: string): Promise<number> {
    return this.emulator.save(file);
  }

  async stop(): Promise<void> {
    this.ssh.end();
    await this.relay.close();
    await this.emulator.stop();
  }
}

function waitForSerial(emulator: Emulator, marker: string, timeoutMs: number, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const timer = setTimeout(() => {
      emulator.off("serial", onSerial);
      reject(new HangarError(`The machine did not finish booting within ${timeoutMs / 1000} s. Last console lines:\n${tail.join("")}`, "Raise config.vm.boot_timeout, or check the box."));
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
