import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Readable } from "node:stream";
import { MAX_COMMAND_BYTES, type MachineSession } from "../../machines/machine-session";
import { shellQuote } from "../../util/shell-quote";
import { HangarError } from "../../util/errors";
import type { ImageStore } from "../images/image-store";
import { ETC_FILES, plugSteps, unplugSteps, type GuestInterface, type GuestNetwork } from "./container-network";
import { runOnChannel, type ConsoleSize } from "./container-console";
import { capabilitiesToDrop, DEFAULT_CONFINEMENT, toolsSetupSteps, TOOLS_DIR, type Confinement } from "./container-confinement";
import { ENTER_SCRIPT, processEnv } from "./container-enter";
import { CONTAINER_RUNTIME, CONTAINER_RUNTIME_SHA256, BOX_RUNTIME_PATH } from "./container-runtime";
import type { IncomingFile, LayerStaging } from "./layer-staging";
import { unpackImage } from "./image-unpack";
import { overlayToLayer } from "./layer-whiteouts";
import { PTYS_DIR, PTYS_VIEW_DIR } from "./container-paths";

/** Where the engine machine keeps image root file systems and containers. */
const ROOT = "/var/lib/hangar";
/** Docker's init layer, shared by every container (made once per boot). */
const INIT = `${ROOT}/init`;
/** Scripts longer than this go up as a file first: the SSH server's limit on a command, with room for the wrapper. */
const INLINE_SCRIPT_BYTES = MAX_COMMAND_BYTES - 1000;
/** The cgroup (v2) every container's own cgroup lives under; controllers are enabled on it once. */
const CGROUP = "/sys/fs/cgroup/hangar";

/** A mount as the engine machine does it: source paths are the guest's (9p-backed folders), destinations the container's. */
export interface GuestMount {
  kind: "bind" | "tmpfs";
  /** bind: a guest path under a 9p synced folder; tmpfs: unused. */
  source: string;
  /** Absolute, normalized, inside the container. */
  destination: string;
  readOnly: boolean;
  /** Fill an empty source with what the container's root has at the destination first (Docker's copy-up of a new volume). */
  copyUp?: boolean;
  /** tmpfs: `mount -o` options (already checked to be option-like text). */
  options?: string;
}

/** What a container runs and within which limits (Docker's Config + HostConfig, the parts the guest needs). */
export interface ContainerSpec {
  /** 64 hex characters. */
  id: string;
  /** "sha256:<hex>", an image in the store. */
  imageId: string;
  /** The process: entrypoint and command already combined, exec form. */
  argv: string[];
  env?: string[];
  workingDir?: string;
  hostname?: string;
  /** cgroup memory.max in bytes (--memory). */
  memoryBytes?: number;
  /** cgroup pids.max (--pids-limit). */
  pidsLimit?: number;
  /** CPUs as a fraction (--cpus), written as cpu.max. */
  cpus?: number;
  /** Delete the writable layer and cgroup as soon as the process ends (--rm). */
  removeAfter?: boolean;
  /** Interfaces and /etc files; without it the container has loopback only and the image's /etc. */
  network?: GuestNetwork;
  /** Volumes, bind mounts and tmpfs, put in place inside the container's mount namespace (mount-script.ts). */
  mounts?: GuestMount[];
  /** Docker's user spec (-u, image USER): name or uid, optionally :group or :gid; empty for root. */
  user?: string;
  /** A terminal (-t) of this size for the process instead of pipes. */
  tty?: ConsoleSize;
  /** Capabilities, privileged, no-new-privileges; Docker's defaults when unset (Dockerfile RUN steps). */
  confinement?: Confinement;
}

export interface RunHandlers {
  onStdout?(data: Buffer): void;
  onStderr?(data: Buffer): void;
  /** The container's process exists (it can be signalled from now on). */
  onStarted?(): void;
  /** The process's stdin (-i); without it, stdin is /dev/null. */
  stdin?: Readable;
  /** With a TTY: the terminal can be resized from now on. */
  onResizable?(resize: (size: ConsoleSize) => void): void;
}

export class ContainerRuntimeError extends HangarError {}

/**
 * Runs containers in the engine machine's kernel, as DESIGN.md records them
 * working: the image's layers unpacked once per image into a read-only
 * lower directory, an overlay with the container's own upper directory,
 * `unshare -fmupin` for PID, mount, UTS, IPC and network namespaces (proc
 * mounted inside, since busybox's --mount-proc fails on an initramfs root),
 * chroot, and a cgroup v2 group for limits. Every step is one SSH exec as
 * root on the engine machine's session.
 */
export class GuestRuntime {
  private readonly imagesReady = new Map<string, Promise<void>>();
  /** Where the container runtime script is, once prepared. */
  private prepared?: Promise<string>;

  constructor(
    /** The engine machine's root session (exec, top and cp run their own scripts on it). */
    readonly session: MachineSession,
    private readonly store: ImageStore,
    /** Layers go to the guest through this share when given, else through the session. */
    private readonly staging?: LayerStaging,
  ) {}

  /**
   * Once per engine machine session (a resumed machine keeps what it had):
   * the /dev template every container's /dev is copied from (device nodes,
   * the static busybox and ENTER_SCRIPT that start its process), Docker's
   * init layer, the tools folder containers are confined with, the
   * terminals' folder and the cgroup v2 hierarchy; and which container
   * runtime script to run (container-runtime.sh): the box's, or — a box
   * older or newer than this Hangar — this Hangar's own, put in place.
   * Starting a container then does only what is its own: the emulated
   * guest pays for every process.
   */
  private prepare(): Promise<string> {
    this.prepared ??= this.prepareOnce();
    this.prepared.catch(() => (this.prepared = undefined));
    return this.prepared;
  }

  private async prepareOnce(): Promise<string> {
    const dev = `${ROOT}/dev`;
    const script = [
      "set -e",
      `[ -e ${dev}/.hangar/busybox ] || { mkdir -p ${dev}/pts ${dev}/shm ${dev}/.hangar && for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do n=\${d%%:*}; m=\${d#*:}; mknod -m 666 ${dev}/$n c \${m%%:*} \${m#*:}; done; cp /bin/busybox ${dev}/.hangar/busybox; }`,
      // (always written: a machine suspended by another Hangar version may hold another one)
      `cat > ${dev}/.hangar/enter`,
      // Docker's init layer: the mount points the engine needs, one read-only layer shared by every container between its
      // image and its own layer, so they are no change of the container's in docker diff.
      `[ -d ${INIT}/etc ] || { mkdir -p ${INIT}/proc ${INIT}/dev ${INIT}/sys ${INIT}/etc && touch ${ETC_FILES.map((f) => `${INIT}/etc/${f}`).join(" ")}; }`,
      `[ -e ${TOOLS_DIR}/sbin/capsh ] || { ${toolsSetupSteps().join(" && ")}; }`,
      // The terminals' shared mount and its read-only peer (container-paths.ts).
      `[ -e ${PTYS_DIR}/.shared ] || { mkdir -p ${PTYS_DIR} ${PTYS_VIEW_DIR} && mount -t tmpfs -o mode=755,size=1m tmpfs ${PTYS_DIR} && mount --make-shared ${PTYS_DIR} && : > ${PTYS_DIR}/.shared && mount --bind ${PTYS_DIR} ${PTYS_VIEW_DIR} && mount -o remount,bind,ro ${PTYS_VIEW_DIR}; }`,
      // cgroup v2: mounted and its controllers enabled once; every container's limits apply from before its process starts.
      `[ -e /sys/fs/cgroup/cgroup.controllers ] || mount -t cgroup2 cgroup2 /sys/fs/cgroup`,
      `[ -d ${CGROUP} ] || { echo "+memory +pids +cpu" > /sys/fs/cgroup/cgroup.subtree_control; mkdir -p ${CGROUP}; echo "+memory +pids +cpu" > ${CGROUP}/cgroup.subtree_control; }`,
      // Containers reach the network: the engine machine forwards their packets to v86's NAT, which answers
      // whatever source address it sees (no masquerading needed). Its own traffic and replies from outside are
      // routed before the rules that keep each network's bridge out of reach from the others (container-runtime.sh).
      "echo 1 > /proc/sys/net/ipv4/ip_forward",
      `for r in "100 lo" "101 eth0"; do set -- $r; ip rule del pref $1 2>/dev/null || :; ip rule add pref $1 iif $2 lookup main; done`,
      `h=$(sha256sum ${BOX_RUNTIME_PATH} 2>/dev/null) || true; echo "\${h%% *}"`,
    ].join("\n");
    const res = await this.session.run(script, { stdin: ENTER_SCRIPT });
    if (res.code !== 0) throw new ContainerRuntimeError(`The engine machine could not prepare for containers: ${res.stderr.trim() || `exit status ${res.code}`}`);
    if (res.stdout.trim() === CONTAINER_RUNTIME_SHA256) return BOX_RUNTIME_PATH;
    const own = `${ROOT}/container-runtime-${CONTAINER_RUNTIME_SHA256.slice(0, 12)}`;
    await this.must(`cat > ${own}.tmp && mv ${own}.tmp ${own}`, "install the container runtime", CONTAINER_RUNTIME);
    return own;
  }

  /** Unpacks an image's layers in the guest once; later containers of the image reuse them. */
  ensureImage(imageId: string): Promise<void> {
    let ready = this.imagesReady.get(imageId);
    if (!ready) {
      ready = this.unpackImage(imageId);
      this.imagesReady.set(imageId, ready);
      ready.catch(() => this.imagesReady.delete(imageId));
    }
    return ready;
  }

  /** Layers unpacked confined to the image's root (image-unpack.ts): the engine machine holds the host's shares. */
  private unpackImage(imageId: string): Promise<void> {
    return unpackImage(this.session, this.store, imageId, ROOT, this.staging);
  }

  /**
   * Runs the container's process to its end; resolves with its exit status
   * (137 when the kernel's OOM killer stops it, as Docker reports).
   */
  async run(spec: ContainerSpec, handlers: RunHandlers = {}): Promise<number> {
    if (!/^[0-9a-f]{64}$/.test(spec.id)) throw new ContainerRuntimeError(`Container ID ${spec.id} is not 64 hex characters.`);
    if (!spec.argv.length) throw new ContainerRuntimeError("No command given: the image has no CMD or ENTRYPOINT and none was passed.");
    const runtime = await this.prepare();
    await this.ensureImage(spec.imageId);
    // Interactive (-i, -t): a channel of its own with stdin and maybe a pty.
    if (spec.tty || handlers.stdin)
      return runOnChannel(
        this.session,
        await this.command(`exec sh ${runtime} ${runtimeArguments(spec, !!handlers.stdin).map(shellQuote).join(" ")}`, spec.id),
        startedMarker(spec.id).toString().trim(),
        { ...handlers, tty: spec.tty },
      );
    // The run script says on stderr, in one line of its own, when the process exists; that line is not the container's output.
    const marker = startedMarker(spec.id);
    let started = false;
    const onStderr = (data: Buffer): void => {
      if (!started) {
        const at = data.indexOf(marker);
        if (at >= 0) {
          started = true;
          handlers.onStarted?.();
          data = Buffer.concat([data.subarray(0, at), data.subarray(at + marker.length)]);
          if (!data.length) return;
        }
      }
      handlers.onStderr?.(data);
    };
    const res = await this.session.run(await this.command(`exec sh ${runtime} ${runtimeArguments(spec).map(shellQuote).join(" ")}`, spec.id), { onStdout: handlers.onStdout, onStderr });
    return res.code < 0 ? 137 : res.code;
  }

  /**
   * Sends a signal to the container's PID 1 (which, as in Docker, ignores
   * TERM and INT unless it handles them); KILL ends the whole PID namespace.
   * A container that is not running is left alone.
   */
  async kill(id: string, signal = "KILL"): Promise<void> {
    const sig = signal.replace(/^SIG/i, "").toUpperCase();
    if (!/^([A-Z0-9]+|\d+)$/.test(sig)) throw new ContainerRuntimeError(`Invalid signal: ${signal}`);
    const c = `${ROOT}/containers/${id}`;
    // This busybox has no pgrep: the child is found by its parent pid, field 4 of /proc/PID/stat.
    // The kernel lists a task's children directly (CONFIG_PROC_CHILDREN); scanning every /proc/PID/stat is the slow fallback.
    const findChild = `cat /proc/$u/task/$u/children 2>/dev/null || for s in /proc/[0-9]*/stat; do set -- $(cat $s 2>/dev/null); [ "$4" = "$u" ] && echo $1; done`;
    // A container started a moment ago may not have its PID 1 yet: look again for up to 5 s (a finished one has no pid file and ends the loop too).
    const script = `for i in $(seq 50); do u=$(cat ${c}/unshare.pid 2>/dev/null); if [ -n "$u" ]; then p=$(${findChild}); [ -n "$p" ] && exec kill -s ${sig} $p; fi; [ -d ${c} ] || exit 0; sleep 0.1; done; exit 0`;
    const res = await this.session.run(script);
    if (res.code !== 0) throw new ContainerRuntimeError(`Could not send SIG${sig} to container ${id.slice(0, 12)}: ${res.stderr.trim() || `exit status ${res.code}`}`);
  }

  /**
   * A container's changes as an uncompressed layer tar in Docker's format,
   * written to `file`: its upper directory, with overlay's whiteouts (0/0
   * character devices) turned into `.wh.` entries, and its opaque folders
   * (a folder removed and made again: overlay marks it with an xattr this
   * busybox cannot read) as `.wh..wh..opq`. A folder is opaque when an
   * entry of the layers below it is not in the container's view and no
   * whiteout hides it: read off the overlay itself, which stays mounted
   * until the container is removed. Nothing inside `excluded` (absolute
   * paths: an image's volumes) is part of it.
   */
  async diff(id: string, file: string, imageId: string, excluded: string[] = []): Promise<void> {
    const c = `${ROOT}/containers/${id}`;
    const lowers = [INIT, `${ROOT}/images/${hex(imageId)}/rootfs`];
    // Through the staging share when there is one (a sixth of SSH's cost in the guest), else base64 on stdout.
    const incoming = this.staging?.incoming();
    try {
      await this.diffInto(id, file, excluded, c, lowers, incoming);
    } finally {
      await incoming?.release();
    }
  }

  private async diffInto(id: string, file: string, excluded: string[], c: string, lowers: string[], incoming: IncomingFile | undefined): Promise<void> {
    const res = await this.session.run(
      [
        `cd ${c}/upper && tar -c . ${incoming ? `> ${shellQuote(incoming.guestPath)}` : "| base64"}`,
        "echo '--opaque--'",
        // (globs, tests and read are the shell's own: one find for the whole walk)
        `find . -mindepth 1 -type d | while IFS= read -r d; do d=\${d#./}; for l in ${lowers.join(" ")}; do [ -d "$l/$d" ] || continue; for e in "$l/$d"/* "$l/$d"/.[!.]* "$l/$d"/..?*; do { [ -e "$e" ] || [ -L "$e" ]; } || continue; n=\${e##*/}; if [ ! -e "${c}/rootfs/$d/$n" ] && [ ! -L "${c}/rootfs/$d/$n" ] && [ ! -c "$d/$n" ]; then printf '%s\n' "$d"; break 2; fi; done; done; done`,
      ].join("\n"),
    );
    if (res.code !== 0) throw new ContainerRuntimeError(`Reading container ${id.slice(0, 12)}'s changes failed: ${res.stderr.trim()}`);
    const [archive, opaque = ""] = res.stdout.split("--opaque--\n");
    const tarBytes = incoming ? await incoming.read() : Buffer.from(archive, "base64");
    await overlayToLayer(tarBytes, file, opaque.split("\n").filter(Boolean), excluded);
  }

  /** `docker pause` / `unpause`: the cgroup v2 freezer stops and resumes every process of the container. */
  async freeze(id: string, frozen: boolean): Promise<void> {
    await this.must(`echo ${frozen ? 1 : 0} > ${CGROUP}/${id}/cgroup.freeze`, `${frozen ? "pause" : "unpause"} the container`);
  }

  /** Rewrites a running container's /etc/hosts in place (the bind mount holds the file, not its name), as peers come and go. */
  async writeHosts(id: string, content: string): Promise<void> {
    await this.must(`[ ! -d ${ROOT}/containers/${id} ] || cat > ${ROOT}/containers/${id}/hosts`, "update the container's /etc/hosts", content);
  }

  /** A TCP connection to a container's address, made from the engine machine (published ports are relayed through it). */
  connect(ip: string, port: number): Promise<Duplex> {
    return this.session.connectTcp(ip, port);
  }

  /** Connects a running container to one more network (a new ethN). */
  async plug(id: string, iface: GuestInterface): Promise<void> {
    await this.must(plugSteps(`${ROOT}/containers/${id}`, id, iface).join("\n"), `connect container ${id.slice(0, 12)} to the bridge ${iface.bridge}`);
  }

  /** Disconnects a running container from the network it has `ip` on. */
  async unplug(id: string, ip: string): Promise<void> {
    await this.must(unplugSteps(`${ROOT}/containers/${id}`, ip).join("\n"), `disconnect container ${id.slice(0, 12)} from ${ip}`);
  }

  /** Deletes a removed network's bridge and its routing rule (both gone anyway at the next boot). */
  async removeBridge(bridge: string, subnet?: string): Promise<void> {
    const rule = subnet && /^[\d.]+\/\d+$/.test(subnet) ? `ip rule del pref 200 to ${subnet} type prohibit 2>/dev/null; ` : "";
    await this.must(`${rule}[ ! -d /sys/class/net/${bridge} ] || ip link del ${bridge}`, `remove the bridge ${bridge}`);
  }

  /**
   * `docker diff`: what the container changed, from its writable layer —
   * "A" added, "C" changed (it was in the image), "D" deleted (overlay's
   * 0/0 device). Paths are absolute, as Docker prints them.
   */
  async changes(id: string, imageId: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
    const upper = `${ROOT}/containers/${id}/upper`;
    const lower = `${ROOT}/images/${hex(imageId)}/rootfs`;
    const res = await this.session.run(
      `cd ${upper} && find . -mindepth 1 | while IFS= read -r p; do if [ -c "$p" ] && [ "$(stat -c %t%T "$p")" = 00 ]; then echo "D \${p#.}"; elif [ -e "${lower}/$p" ] || [ -L "${lower}/$p" ]; then echo "C \${p#.}"; else echo "A \${p#.}"; fi; done`,
    );
    if (res.code !== 0) throw new ContainerRuntimeError(`Listing container ${id.slice(0, 12)}'s changes failed: ${res.stderr.trim()}`);
    const kinds = { C: 0, A: 1, D: 2 } as const;
    // The /etc files the engine mounts over the image's are not the container's changes (Docker leaves them out too).
    const mounted = new Set(ETC_FILES.map((f) => `/etc/${f}`));
    return res.stdout
      .split("\n")
      .filter((line) => line && !mounted.has(line.slice(2)))
      .map((line) => ({ Path: line.slice(2), Kind: kinds[line[0] as "C" | "A" | "D"] }))
      .sort((a, b) => a.Path.localeCompare(b.Path));
  }

  /** Unmounts and deletes a container's writable layer and cgroup. */
  async remove(id: string): Promise<void> {
    const c = `${ROOT}/containers/${id}`;
    await this.must(`umount ${c}/rootfs/proc 2>/dev/null; umount ${c}/rootfs 2>/dev/null; rm -rf ${c}; rmdir ${CGROUP}/${id} ${PTYS_DIR}/${id} 2>/dev/null; true`, "remove the container");
  }

  /**
   * The command line for a script: the script itself, or — past dropbear's
   * 9000-byte limit on an exec's command (it drops the connection) — a file
   * in the container's folder it is uploaded to first.
   */
  private async command(script: string, name: string): Promise<string> {
    if (Buffer.byteLength(script) <= INLINE_SCRIPT_BYTES) return script;
    const file = `${ROOT}/containers/${name}/run.sh`;
    await this.must(`mkdir -p ${ROOT}/containers/${name} && cat > ${file}`, "store a container's run script", script);
    return `exec sh ${file}`;
  }

  private async must(command: string, what: string, stdin?: string): Promise<void> {
    const res = await this.session.run(command, stdin === undefined ? {} : { stdin });
    if (res.code !== 0) throw new ContainerRuntimeError(`The engine machine could not ${what}: ${res.stderr.trim() || `exit status ${res.code}`}`);
  }
}

/**
 * The arguments of the container runtime script (container-runtime.sh)
 * that start a container: its spec as data. `stdin`: the channel's stdin
 * is the process's (-i).
 */
export function runtimeArguments(spec: ContainerSpec, stdin = false): string[] {
  const hostname = spec.hostname ?? spec.id.slice(0, 12);
  const confinement = spec.confinement ?? DEFAULT_CONFINEMENT;
  const drop = capabilitiesToDrop(confinement);
  const net = spec.network;
  const options: Array<[string, ...string[]]> = [
    ["hostname", hostname],
    ["workdir", spec.workingDir || "/"],
    ...(spec.user ? [["user", spec.user] as [string, string]] : []),
    ...(spec.memoryBytes ? [["memory", String(Math.floor(spec.memoryBytes))] as [string, string]] : []),
    ...(spec.pidsLimit && spec.pidsLimit > 0 ? [["pids", String(Math.floor(spec.pidsLimit))] as [string, string]] : []),
    ...(spec.cpus ? [["cpus", `${Math.max(1000, Math.round(spec.cpus * 100000))} 100000`] as [string, string]] : []),
    ...(drop.length ? [["drop", drop.join(",")] as [string, string]] : []),
    ...(confinement.privileged ? [["privileged", "1"] as [string, string]] : []),
    ...(confinement.noNewPrivileges ? [["nnp", "1"] as [string, string]] : []),
    ...(spec.removeAfter ? [["rm", "1"] as [string, string]] : []),
    ...(spec.tty ? [["tty", "1"] as [string, string]] : []),
    ...(stdin ? [["stdin", "1"] as [string, string]] : []),
    ...(net
      ? [
          ["net", net.mode] as [string, string],
          ["hosts", net.hosts] as [string, string],
          ["etchostname", net.hostname] as [string, string],
          ["resolv", net.resolvConf] as [string, string],
          ...(net.mode === "bridge"
            ? net.interfaces.map((i) => ["iface", i.bridge, i.ip, String(i.prefixLen), i.gateway, i.mac, `veth${randomBytes(4).toString("hex").slice(0, 7)}`] as [string, ...string[]])
            : []),
        ]
      : []),
    // Parents before children.
    ...[...(spec.mounts ?? [])]
      .sort((a, b) => a.destination.split("/").length - b.destination.split("/").length)
      .map((m) => ["mount", m.kind, m.readOnly ? "1" : "", m.copyUp ? "1" : "", m.source, m.destination, m.options ?? ""] as [string, ...string[]]),
  ];
  return ["run", spec.id, hex(spec.imageId), ...options.flat(), "--", ...processEnv(spec.env ?? [], hostname, !!spec.tty), "--", ...spec.argv];
}

function startedMarker(id: string): Buffer {
  return Buffer.from(`hangar-container-started-${id}\n`);
}

function hex(imageId: string): string {
  const h = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(h)) throw new ContainerRuntimeError(`${imageId} is not an image ID.`);
  return h;
}
