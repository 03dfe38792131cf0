import { promises as fs } from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import type { UpParams } from "../daemon/daemon-protocol";
import { privateNetworkRequest, type PrivateNetworkRequest } from "../network/private-addresses";
import type { PortForward } from "../ports/port-relays";
import { HangarError } from "../util/errors";
import type { MachineConfig } from "../vagrantfile/machine-config";
import type { MachineRecords } from "./machine-records";
import type { ProviderName } from "./machine-provider";
import type { ProjectOptions } from "./project-machines";

/**
 * What the daemon's `up` is asked to run for machine `m`: the one place that
 * turns a Vagrantfile's machine into running parameters, for a fresh start,
 * a resume and a snapshot restore alike (two copies once drifted apart, and a
 * restored machine lost its hostname). A missing synced folder is an error
 * here, before anything starts.
 */
export async function upParams(
  m: MachineConfig,
  boxDir: string,
  project: { records: MachineRecords; options: ProjectOptions },
  o: { resumeFrom?: string; provider?: ProviderName; onOutput?(line: string, stream: "stdout" | "stderr"): void } = {},
): Promise<UpParams> {
  const { records, options } = project;
  const box = await boxNeeds(boxDir);
  const qemu = o.provider === "qemu";
  return {
    key: records.daemonKey(m.name),
    ...(qemu ? { provider: "qemu" as const, ...(options.qemuPath ? { qemuPath: options.qemuPath } : {}) } : {}),
    boxDir,
    memoryMiB: memoryMiB(m, options, box.defaultMemoryMiB),
    bootTimeoutMs: m.bootTimeout * 1000,
    keyFile: records.keyFile(m.name),
    hostname: m.hostname,
    // QEMU machines get their synced folders as copies (rsync type: qemuFolders), none mounted.
    syncedFolders: qemu ? [] : await mountedFolders(m, records.projectDir, options.syncExcludes ?? []),
    diskDir: records.diskDir(m.name),
    ...(m.primaryDiskBytes !== null ? { rootDiskBytes: m.primaryDiskBytes } : {}),
    forwards: forwards(m, options.sshPortBase ?? 2222, o.onOutput),
    privateNetworks: privateNetworks(m, o.onOutput),
    ...(o.resumeFrom ? { resumeFrom: o.resumeFrom } : {}),
  };
}

/**
 * The memory the embedded emulator can give a machine: v86 emulates a 32-bit
 * PC whose devices are mapped from 3.5 GiB up (loaded past 4000 MiB it fails
 * outright), and the default box's kernel and initramfs need about 64 MiB.
 */
export const MACHINE_MEMORY_MIB = { min: 64, max: 3072 } as const;

/**
 * The machine's memory: its Vagrantfile's, else the user's default (256 MiB
 * unless set) or what its box needs (hangar/debian-bookworm: 512), whichever
 * is more; refused outside what the emulator can give.
 */
export function memoryMiB(m: MachineConfig, options: ProjectOptions, boxDefault = 0): number {
  const mib = m.memory ?? Math.max(options.defaultMemoryMiB ?? 256, boxDefault);
  const where = m.memory !== null ? "its provider's memory setting (v.memory)" : "hangar.machines.defaultMemory";
  if (!Number.isInteger(mib) || mib < MACHINE_MEMORY_MIB.min || mib > MACHINE_MEMORY_MIB.max)
    throw new HangarError(
      `Machine '${m.name}' asks for ${mib} MiB of memory, but the embedded emulator gives a machine ${MACHINE_MEMORY_MIB.min} to ${MACHINE_MEMORY_MIB.max} MiB (it emulates a 32-bit PC).`,
      `Set ${where} within that range.`,
    );
  return mib;
}

/** What the box's metadata asks of machines (a box without metadata fails later, where it is opened). */
async function boxNeeds(boxDir: string): Promise<{ defaultMemoryMiB?: number }> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(boxDir, "metadata.json"), "utf8")) as { defaultMemoryMiB?: unknown };
    return Number.isInteger(meta.defaultMemoryMiB) ? { defaultMemoryMiB: meta.defaultMemoryMiB as number } : {};
  } catch {
    return {};
  }
}

/**
 * The host ports a machine asks for: its SSH endpoint (Vagrant's "ssh"
 * forward: 2222 and up, auto-corrected; a forwarded_port with id "ssh"
 * replaces it) and its forwarded ports, on 127.0.0.1 unless host_ip says
 * otherwise. UDP is not forwarded (the emulator's network stack relays TCP).
 */
function forwards(m: MachineConfig, base: number, onOutput: (line: string, stream: "stdout" | "stderr") => void = () => undefined): PortForward[] {
  const own = m.forwardedPorts.find((f) => f.id === "ssh");
  const out: PortForward[] = [
    { id: "ssh", guest: 22, host: own?.host ?? base, hostIp: own?.hostIp ?? "127.0.0.1", autoCorrect: own ? own.autoCorrect : true, range: base === 2222 ? m.usablePortRange : [base, base + 50] },
  ];
  for (const f of m.forwardedPorts) {
    if (f.id === "ssh") continue;
    if (f.protocol === "udp") {
      onOutput(`${m.name}: UDP port ${f.guest} is not forwarded (the embedded network relays TCP only).`, "stderr");
      continue;
    }
    out.push({ id: f.id, guest: f.guest, host: f.host, hostIp: f.hostIp || "127.0.0.1", autoCorrect: f.autoCorrect, range: m.usablePortRange });
  }
  return out;
}

/** The machine's private_network lines as addresses to claim; a bad ip or netmask fails `up` naming the machine. */
function privateNetworks(m: MachineConfig, onOutput: (line: string, stream: "stdout" | "stderr") => void = () => undefined): PrivateNetworkRequest[] {
  const ipv4 = m.privateNetworks.filter((n) => {
    if (n.ip === null || isIP(n.ip) !== 6) return true;
    onOutput(`${m.name}: the private network address ${n.ip} is not set up (Hangar's private networks are IPv4).`, "stderr");
    return false;
  });
  return ipv4.map((n) => {
    try {
      return privateNetworkRequest(n);
    } catch (err) {
      if (err instanceof HangarError) throw new HangarError(`Machine '${m.name}': ${err.message}`);
      throw err;
    }
  });
}

/** Synced folders the guest sees through 9p: every enabled one but rsync copies (those are uploaded over SSH). */
async function mountedFolders(m: MachineConfig, projectDir: string, excludes: string[]): Promise<Array<{ hostPath: string; guestPath: string; exclude: string[] }>> {
  const out: Array<{ hostPath: string; guestPath: string; exclude: string[] }> = [];
  for (const f of m.syncedFolders.filter((x) => !x.disabled && x.type !== "rsync")) {
    const hostPath = path.resolve(projectDir, f.hostPath);
    const st = await fs.stat(hostPath).catch(() => undefined);
    if (!st?.isDirectory())
      throw new HangarError(`Machine '${m.name}': the synced folder ${f.hostPath} (${hostPath}) is not a folder on this computer.`, "Create it, or fix or disable the config.vm.synced_folder line.");
    // What the watch relay leaves out: hangar.sync.exclude and the folder's own rsync__exclude.
    out.push({ hostPath, guestPath: f.guestPath, exclude: [...excludes, ...f.exclude] });
  }
  return out;
}
