import type { PrivateNetworkRequest } from "../network/private-addresses";
import type { BoundPort, PortForward } from "../ports/port-relays";
import type { ProviderName } from "../machines/machine-provider";

/**
 * The machine daemon's protocol: JSON lines over a Unix socket (a named pipe
 * on Windows) under HANGAR_HOME. Embedded machines live in the daemon, so they
 * outlive one CLI command or an extension-host restart, and the CLI and VS Code
 * see the same machines — as Docker Desktop's dockerd outlives `docker`.
 *   → { id, method, params }
 *   ← { id, progress: { fraction, message } }*  then  { id, result } | { id, error }
 */
export interface UpParams {
  /** Stable key of the machine: "<Vagrantfile folder>#<machine name>". */
  key: string;
  /** What runs it (machine-provider.ts); embedded when absent. */
  provider?: ProviderName;
  /** The qemu provider's qemu-system-i386, when a setting names it. */
  qemuPath?: string;
  boxDir: string;
  memoryMiB: number;
  /** config.vm.boot_timeout: how long the guest may take to boot before `up` fails. */
  bootTimeoutMs?: number;
  keyFile: string;
  hostname: string | null;
  /** Resume from this saved state instead of the box's booted state. */
  resumeFrom?: string;
  /** Host ports relayed into the guest: the SSH endpoint (id "ssh") and forwarded ports. */
  forwards?: PortForward[];
  /** The machine's disk folder (MachineRunner's diskDir). */
  diskDir?: string;
  /** The root disk's size for a box whose root is a disk (config.vm.disk :disk, primary: true); default the box's. */
  rootDiskBytes?: number;
  /** Host folders shown in the guest through 9p, bound at their guest paths (absolute host paths). */
  syncedFolders?: Array<{ hostPath: string; guestPath: string; exclude?: string[] }>;
  /** Addresses asked for on private networks (ip null: one from Hangar's DHCP range). */
  privateNetworks?: PrivateNetworkRequest[];
}

export interface MachineInfo {
  key: string;
  provider?: ProviderName;
  sshPort: number;
  /** Every forwarded port as bound (the SSH endpoint's id is "ssh"). */
  ports: BoundPort[];
  /** Addresses on private networks, "192.168.56.10/24". */
  addresses?: string[];
  startedAt: string;
}

export type DaemonRequest =
  | { id: number; method: "up"; params: UpParams }
  | { id: number; method: "halt"; params: { key: string; /** keep the guest's root file system changes on its disk first */ persist?: boolean } }
  | { id: number; method: "suspend"; params: { key: string; stateFile: string } }
  | { id: number; method: "save"; params: { key: string; stateFile: string; compress?: boolean } }
  | { id: number; method: "list"; params: Record<string, never> }
  /** Streams the machine's serial console as `console` replies until the machine stops or the connection closes. */
  | { id: number; method: "console"; params: { key: string } }
  | { id: number; method: "console-input"; params: { key: string; text: string } }
  /** A Vagrantfile evaluated by the daemon's long-lived Ruby (the CLI's own would load Ruby again for every command). */
  | { id: number; method: "evaluate"; params: { source: string; file: string; env: Record<string, string> } }
  /**
   * Cancels the request `request` sent earlier on this connection (Ctrl-C in
   * the CLI, Cancel in VS Code): the operation stops at its next safe point
   * and answers with `cancelled: true` and what state the machine is left in.
   */
  | { id: number; method: "cancel"; params: { request: number } };

export type DaemonReply =
  | { id: number; progress: { fraction: number; message: string } }
  | { id: number; console: string }
  | { id: number; result: unknown }
  | { id: number; error: string; /** the operation was cancelled (error says in what state it left the machine) */ cancelled?: boolean };
