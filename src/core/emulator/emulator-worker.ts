// One machine's emulator, in its own worker thread: v86 and the guest's
// network stack live here so the extension host's event loop never stalls
// while the guest computes. Driven by messages (emulator-protocol.ts).
import { readFileSync, realpathSync, statSync } from "node:fs";
import * as path from "node:path";
import { parentPort } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import type { V86 as V86Class } from "v86" with { "resolution-mode": "import" };
import type { EmulatorBoot, FromWorker, MessagePortLike, StreamFrame, ToWorker } from "./emulator-protocol";
import { GuestNat } from "./guest-nat";
import { PrivateLink } from "./private-link";
import { GuestWatchRelay } from "./guest-watch-relay";
import { GuestTcp, type V86TcpConnection } from "./guest-tcp";
import { HostShareServer } from "../shares/host-share-server";
import { readStateFile, writeStateFile } from "./state-file";
import { CowDisk } from "./cow-disk";
import { FileDisk } from "./file-disk";

if (!parentPort) throw new Error("emulator-worker.ts must run in a worker thread");
const port = parentPort;
let emulator: V86Class | undefined;
let privateLink: PrivateLink | undefined;
let watchRelay: GuestWatchRelay | undefined;
let disk: FileDisk | CowDisk | undefined;
let outputDisk: FileDisk | undefined;
/** Each share's host folder (real path), for folders watched on request. */
let shareRoots = new Map<string, string>();
const shares = new HostShareServer();

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

function arrayBuffer(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

async function boot(b: EmulatorBoot, moduleFile: string): Promise<void> {
  const { V86 } = (await import(pathToFileURL(moduleFile).href)) as { V86: typeof V86Class };
  const options: Record<string, unknown> = {
    wasm_path: b.wasmFile,
    bios: { buffer: arrayBuffer(b.biosFile) },
    vga_bios: { buffer: arrayBuffer(b.vgaBiosFile) },
    memory_size: b.memoryMiB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    // The host answers the guest's 9p requests itself, straight from the host's folders.
    filesystem: { handle9p: (request: Uint8Array, reply: (r: Uint8Array) => void) => reply(shares.handle(request)) },
    // v86's user-mode stack, its outbound TCP and DNS carried to the host by GuestNat.
    net_device: { type: "virtio", relay_url: "fetch", ...GuestNat.dnsOptions },
    // Keep the MAC the guest had when its state was saved, or its network breaks after restore.
    preserve_mac_from_state_image: true,
    autostart: true,
    disable_speaker: true,
    disable_keyboard: true,
    disable_mouse: true,
  };
  if (b.disk) {
    disk = b.disk.base ? new CowDisk(b.disk.base, b.disk.file, b.disk.sizeBytes) : new FileDisk(b.disk.file, b.disk.sizeBytes);
    options.hda = disk;
    options.boot_order = 0x123; // the kernel is loaded directly, as without a disk
  }
  if (b.outputDisk) {
    outputDisk = new FileDisk(b.outputDisk.file, b.outputDisk.sizeBytes);
    options.hdb = outputDisk;
  }
  shares.setShares(b.shares ?? []);
  if (b.stateFile) {
    const state = await readStateFile(b.stateFile);
    options.initial_state = { buffer: state.v86 };
    shares.importFids(state.ninep);
  } else {
    if (!b.kernelFile || !b.initrdFile) throw new Error("A cold boot needs a kernel and an initramfs.");
    options.bzimage = { buffer: arrayBuffer(b.kernelFile) };
    options.initrd = { buffer: arrayBuffer(b.initrdFile) };
    options.cmdline = b.cmdline ?? "console=ttyS0";
  }
  const emu = new V86(options as unknown as ConstructorParameters<typeof V86Class>[0]);
  emulator = emu;
  sleepWhenHalted(emu);
  new GuestNat(emu);
  // Transferred, not copied: the link made the packet its own buffer.
  privateLink = new PrivateLink(emu, b.privateAddresses ?? [], (packet) => port.postMessage({ type: "ip-out", packet } satisfies FromWorker, [packet.buffer as ArrayBuffer]));
  let line = "";
  emu.add_listener("serial0-output-byte", (byte: number) => {
    line += String.fromCharCode(byte);
    if (byte === 10 || line.length > 1024) {
      send({ type: "serial", text: line });
      line = "";
    }
  });
  emu.add_listener("emulator-ready", () => send({ type: "ready" }));
  if (b.watch) {
    const hostPaths = new Map((b.shares ?? []).map((s) => [s.name, realpathSync(s.hostPath)]));
    shareRoots = hostPaths;
    const folders = b.watch.folders.flatMap((f) => {
      const hostPath = hostPaths.get(f.share);
      return hostPath ? [{ ...f, hostPath }] : [];
    });
    const relay = new GuestWatchRelay(
      folders,
      b.watch.token,
      (guestPort) => (emulator as unknown as { network_adapter?: { connect(port: number): V86TcpConnection } } | undefined)?.network_adapter?.connect(guestPort),
      () => send({ type: "watch-synced" }),
      (watchId) => send({ type: "watch-ready", watchId }),
    );
    shares.onGuestChange = (share, rel) => relay.guestChanged(share, rel);
    watchRelay = relay;
  }
}

/**
 * A folder inside a share as a real path, or nothing when it is missing or
 * leads out of the share (the guest may have made part of it a symlink since
 * the engine checked it): the relay must never watch a host folder the share
 * does not hold.
 */
function folderInShare(share: string, inShare: string): { real: string; inShare: string } | undefined {
  const root = shareRoots.get(share);
  if (!root) return undefined;
  try {
    const real = realpathSync(path.resolve(root, inShare));
    const rel = path.relative(root, real);
    if (rel.startsWith("..") || path.isAbsolute(rel) || !statSync(real).isDirectory()) return undefined;
    return { real, inShare: rel.split(path.sep).join("/") };
  } catch {
    return undefined;
  }
}

function openTcp(id: number, guestPort: number, channel: MessagePortLike): void {
  const adapter = (emulator as unknown as { network_adapter?: { connect(port: number): V86TcpConnection } } | undefined)?.network_adapter;
  if (!adapter) {
    send({ type: "tcp-error", id, message: "The machine has no network adapter." });
    channel.close();
    return;
  }
  const frame = (f: StreamFrame): void => channel.postMessage(f);
  const tcp = new GuestTcp(adapter.connect(guestPort), {
    onConnect: () => frame({ type: "connect" }),
    onData: (data) => frame({ type: "data", data }),
    onEnd: () => {
      frame({ type: "end" });
    },
  });
  channel.on("message", (value) => {
    const f = value as StreamFrame;
    if (f.type === "data") tcp.write(f.data);
    else if (f.type === "end") tcp.close();
  });
  channel.on("close", () => tcp.close());
}

/**
 * v86 in Node waits for the guest's next timer with setTimeout, but when
 * that is less than 1 ms away it spins on setImmediate until then. The
 * guest's 250 Hz tick (PIT; the box's kernel is not tickless) made an idle
 * machine spin for the last millisecond of each 4 ms (and setTimeout's
 * rounding woke it twice per tick): over a quarter of a core for doing
 * nothing, which a test run's or a user's several machines pay together. A
 * halted guest now sleeps to the next whole millisecond at or after its
 * timer (its clock is the TSC, so a tick up to 1 ms late costs nothing); a
 * running guest (wait 0) still continues at once, and a device event
 * (network, 9p, console) still wakes a sleeping guest at once (v86's
 * stop_idling).
 */
function sleepWhenHalted(emu: V86Class): void {
  // (v86 makes its main loop once its wasm is loaded: by "emulator-ready", before the guest runs)
  emu.add_listener("emulator-ready", () => {
    const inner = (emu as unknown as { v86?: { yield(t: number, tick: number): void; yield_callback(tick: number): void } }).v86;
    if (!inner) return;
    const spin = inner.yield.bind(inner);
    inner.yield = (t, tick) => (t > 0 ? setTimeout(() => inner.yield_callback(tick), Math.ceil(t)) : spin(t, tick));
  });
}

async function save(id: number, file: string, compress: boolean, diskCopy?: string, resume?: boolean): Promise<void> {
  if (!emulator) throw new Error("No machine is running.");
  // With a disk the guest is paused for the save: writes it made meanwhile would not match the saved state. It stays
  // paused after (the caller stops it) unless the disk was copied with the state (a snapshot), so the two agree.
  if (disk) await emulator.stop();
  try {
    // The 9p handles are taken at the same instant as v86's state: every 9p request is answered synchronously, so none is in flight.
    const state = new Uint8Array(await emulator.save_state());
    disk?.sync();
    if (diskCopy) {
      if (!(disk instanceof CowDisk)) throw new Error("Only a copy-on-write disk can be copied with a saved state.");
      await CowDisk.copyOverlay(disk.overlayPrefix, diskCopy);
    }
    const bytes = await writeStateFile(file, state, shares.exportFids(), compress);
    send({ type: "saved", id, bytes });
  } finally {
    if (disk && resume) await emulator.run();
  }
}

port.on("message", (msg: ToWorker) => {
  const fail = (err: unknown, id?: number): void => send({ type: "failed", id, message: err instanceof Error ? err.message : String(err) });
  switch (msg.type) {
    case "boot":
      boot(msg.boot, msg.moduleFile).catch((err) => fail(err));
      break;
    case "serial":
      emulator?.serial0_send(msg.text);
      break;
    case "save":
      save(msg.id, msg.file, msg.compress, msg.diskCopy, msg.resume).catch((err) => fail(err, msg.id));
      break;
    case "tcp":
      openTcp(msg.id, msg.port, msg.channel);
      break;
    case "watch-helper-started":
      watchRelay?.helperStarted();
      break;
    case "watch-add": {
      const hostPath = folderInShare(msg.share, msg.inShare);
      if (hostPath) watchRelay?.add(msg.watchId, { share: msg.share, hostPath: hostPath.real, inShare: hostPath.inShare, guestPath: msg.guestPath, exclude: msg.exclude });
      break;
    }
    case "watch-remove":
      void watchRelay?.remove(msg.watchId);
      break;
    case "ip-in":
      privateLink?.deliver(msg.packet);
      break;
    case "stop":
      Promise.resolve(emulator?.destroy())
        .catch(() => undefined)
        .then(() => watchRelay?.close())
        .catch(() => undefined)
        .then(() => {
          disk?.close();
          disk = undefined;
          outputDisk?.close();
          outputDisk = undefined;
          emulator = undefined;
          watchRelay = undefined;
          shares.closeAll();
          send({ type: "stopped", id: msg.id });
        });
      break;
  }
});
