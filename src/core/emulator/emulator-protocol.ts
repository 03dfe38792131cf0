import type { PrivateAddress } from "../network/private-addresses";
import type { Share } from "../shares/host-share-server";

/**
 * Messages between a machine's emulator worker (emulator-worker.ts, which owns
 * v86 and the guest's network stack) and the main thread (emulator-host.ts).
 * Byte streams to guest TCP ports travel on their own MessagePorts so a busy
 * SSH session never queues behind control messages.
 */
export interface EmulatorBoot {
  /** Absolute paths; read in the worker so large files never cross threads. */
  wasmFile: string;
  biosFile: string;
  vgaBiosFile: string;
  /** Cold boot: kernel + initramfs + command line. */
  kernelFile?: string;
  initrdFile?: string;
  cmdline?: string;
  /** Warm start: a saved state (state-file.ts). */
  stateFile?: string;
  memoryMiB: number;
  /** Host folders the guest sees under its 9p mount (/mnt/host9p/<name>). */
  shares?: Share[];
  /** The guest's addresses on private networks: its frames for those go to the host as "ip-out". */
  privateAddresses?: PrivateAddress[];
  /** Shares whose host changes are replayed to the guest's inotify (guest-watch-relay.ts; none: only folders added later), and the helper's token. */
  watch?: { folders: Array<{ share: string; guestPath: string; exclude: string[] }>; token: string };
  /**
   * A disk (IDE, the guest's /dev/sda) kept in a host file (file-disk.ts), or
   * with `base` a copy-on-write overlay (cow-disk.ts; `file` is the overlay's
   * prefix) over a box's disk image. With one, a saved machine stays paused
   * unless the save says to resume.
   */
  disk?: { file: string; sizeBytes: number; base?: string };
  /** A second IDE disk (the guest's /dev/sdb) in a sparse host file: where a build's guest writes what it made. Not kept in saved states. */
  outputDisk?: { file: string; sizeBytes: number };
}

export type ToWorker =
  | { type: "boot"; boot: EmulatorBoot; moduleFile: string }
  | { type: "serial"; text: string }
  /** `diskCopy`: the overlay prefix the disk is copied to at the same instant (a snapshot's disk); `resume`: run on after. */
  | { type: "save"; id: number; file: string; compress: boolean; diskCopy?: string; resume?: boolean }
  | { type: "tcp"; id: number; port: number; channel: MessagePortLike }
  | { type: "stop"; id: number }
  /** The guest's watch helper is listening (guest-watch-relay.ts). */
  | { type: "watch-helper-started" }
  /** Watch a folder inside a share (`inShare`, relative) while `watch-remove` has not named its id: an engine container's bind mount. */
  | { type: "watch-add"; watchId: string; share: string; inShare: string; guestPath: string; exclude: string[] }
  | { type: "watch-remove"; watchId: string }
  /** An IPv4 packet from a private network, for one of the guest's private addresses. */
  | { type: "ip-in"; packet: Uint8Array };

export type FromWorker =
  | { type: "ready" }
  | { type: "serial"; text: string }
  | { type: "saved"; id: number; bytes: number }
  | { type: "stopped"; id: number }
  | { type: "tcp-error"; id: number; message: string }
  /** The watch helper holds every synced folder open: watches on them hold from now on. */
  | { type: "watch-synced" }
  /** The watch helper holds every folder of a folder added with watch-add: watches in it hold from now on. */
  | { type: "watch-ready"; watchId: string }
  /** An IPv4 packet the guest sent to a private network. */
  | { type: "ip-out"; packet: Uint8Array }
  | { type: "failed"; id?: number; message: string };

/** The structural part of worker_threads.MessagePort both sides use. */
export interface MessagePortLike {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
  on(event: "message", listener: (value: unknown) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  close(): void;
}

/** On a stream port: data frames, an end-of-stream marker, or a close. */
export type StreamFrame = { type: "data"; data: Uint8Array } | { type: "end" } | { type: "connect" };
