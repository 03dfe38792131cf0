import type { BoundPort } from "../ports/port-relays";
import { HangarError } from "../util/errors";

/**
 * The seam under machines: what runs a machine's guest. Vagrant's behaviour
 * (records, provisioning, rsync, validation) stays above it in
 * ProjectMachines; the machine daemon holds running machines of every
 * provider behind this interface. `embedded` is v86 in the daemon
 * (machine-runner.ts), `qemu` a QEMU process it starts (qemu/qemu-runner.ts).
 */

export type ProviderName = "embedded" | "qemu";
export const PROVIDER_NAMES: readonly ProviderName[] = ["embedded", "qemu"];
/** Vagrant's names for this provider's machines in a Vagrantfile (config.vm.provider "hangar"). */
const ALIASES: Readonly<Record<string, ProviderName>> = { embedded: "embedded", hangar: "embedded", qemu: "qemu" };

export interface RunningMachine {
  readonly provider: ProviderName;
  readonly sshPort: number;
  /** Every forwarded port as bound (the SSH endpoint's id is "ssh"). */
  readonly ports: { readonly ports: BoundPort[] };
  /** The root file system is a disk that keeps the machine's files by itself. */
  readonly rootOnDisk: boolean;
  /** Keeps the guest's changes on its disk before a halt, where the root is not a disk. */
  persistDisk(): Promise<boolean>;
  /** Before the power goes: the guest's writes synced, a root disk left clean. */
  quiesce(): Promise<void>;
  stop(): Promise<void>;
  typeOnConsole(text: string): void;
  watchConsole(onText: (text: string) => void): () => void;
  /** Suspend: the whole guest state to `file`; the caller stops the machine next. */
  save(file: string, compress?: boolean): Promise<number>;
  /** A snapshot: state and disk at one instant; the machine runs on. */
  snapshot(file: string, compress?: boolean): Promise<number>;
  onExit(listener: () => void): void;
  offExit(listener: () => void): void;
}

/** The provider a name on the command line, a setting or a Vagrantfile's provider block means; unknown names are refused. */
export function providerNamed(name: string, where: string): ProviderName {
  const p = ALIASES[name.trim().toLowerCase()];
  if (!p) throw new HangarError(`${where} names the provider '${name}', which Hangar does not have.`, `Hangar's providers: ${PROVIDER_NAMES.join(", ")} ("hangar" is the embedded one).`);
  return p;
}
