import type { Duplex } from "node:stream";
import type { Readable } from "node:stream";
import type { MachineSession } from "../../machines/machine-session";
import { shellQuote } from "../../util/shell-quote";
import { HangarError } from "../../util/errors";
import type { ImageStore } from "../images/image-store";
import { attachNetworkSteps, ETC_FILES, etcMountSteps, innerNetworkSteps, plugSteps, prepareNetworkSteps, unplugSteps, type GuestInterface, type GuestNetwork } from "./container-network";
import { runOnChannel, type ConsoleSize } from "./container-console";
import { capshCommand, DEFAULT_CONFINEMENT, procMaskSteps, toolsSetupSteps, TOOLS_DIR, type Confinement } from "./container-confinement";
import { ENTER_SCRIPT, enterArgs, processEnv } from "./container-enter";
import { unpackImage } from "./image-unpack";
import { overlayToLayer } from "./layer-whiteouts";
import { mountSteps, type GuestMount } from "./mount-script";
import { PTYS_DIR, PTYS_VIEW_DIR } from "./container-paths";

/** Where the engine machine keeps image root file systems and containers. */
const ROOT = "/var/lib/hangar";
/** Docker's init layer, shared by every container (made once per boot). */
const INIT = `${ROOT}/init`;
/** Dropbear refuses (and drops the connection for) an exec whose command is longer than 9000 bytes (MAX_CMD_LEN). */
const MAX_COMMAND_BYTES = 8000;
/** The cgroup (v2) every container's own cgroup lives under; controllers are enabled on it once. */
const CGROUP = "/sys/fs/cgroup/hangar";

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
  private prepared?: Promise<void>;

  constructor(
    /** The engine machine's root session (exec, top and cp run their own scripts on it). */
    readonly session: MachineSession,
    private readonly store: ImageStore,
  ) {}

  /**
   * Once per engine machine session (a resumed machine keeps what it had):
   * the /dev template every container's /dev is copied from (device nodes,
   * the static busybox and ENTER_SCRIPT that start its process), Docker's
   * init layer, the tools folder containers are confined with, and the
   * cgroup v2 hierarchy. The per-container run script then does only what
   * is the container's own: the emulated guest pays for every process.
   */
  private prepare(): Promise<void> {
    if (!this.prepared) {
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
      ].join("\n");
      this.prepared = this.must(script, "prepare for containers", ENTER_SCRIPT);
      this.prepared.catch(() => (this.prepared = undefined));
    }
    return this.prepared;
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
    return unpackImage(this.session, this.store, imageId, ROOT);
  }

  /**
   * Runs the container's process to its end; resolves with its exit status
   * (137 when the kernel's OOM killer stops it, as Docker reports).
   */
  async run(spec: ContainerSpec, handlers: RunHandlers = {}): Promise<number> {
    if (!/^[0-9a-f]{64}$/.test(spec.id)) throw new ContainerRuntimeError(`Container ID ${spec.id} is not 64 hex characters.`);
    if (!spec.argv.length) throw new ContainerRuntimeError("No command given: the image has no CMD or ENTRYPOINT and none was passed.");
    await this.prepare();
    await this.ensureImage(spec.imageId);
    // Interactive (-i, -t): a channel of its own with stdin and maybe a pty.
    if (spec.tty || handlers.stdin)
      return runOnChannel(this.session, await this.command(this.runScript(spec, !!handlers.stdin), spec.id), startedMarker(spec.id).toString().trim(), { ...handlers, tty: spec.tty });
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
    const res = await this.session.run(await this.command(this.runScript(spec), spec.id), { onStdout: handlers.onStdout, onStderr });
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
   * character devices) turned into `.wh.` entries. (Opaque directories, an
   * xattr this busybox cannot read, are not marked yet.)
   */
  async diff(id: string, file: string): Promise<void> {
    const res = await this.session.run(`cd ${ROOT}/containers/${id}/upper && tar -c . | base64`);
    if (res.code !== 0) throw new ContainerRuntimeError(`Reading container ${id.slice(0, 12)}'s changes failed: ${res.stderr.trim()}`);
    await overlayToLayer(Buffer.from(res.stdout, "base64"), file);
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

  /** Deletes a removed network's bridge (gone anyway at the next boot). */
  async removeBridge(bridge: string): Promise<void> {
    await this.must(`[ ! -d /sys/class/net/${bridge} ] || ip link del ${bridge}`, `remove the bridge ${bridge}`);
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

  private runScript(spec: ContainerSpec, stdin = false): string {
    // The container's folder and cgroup are in the shell variables $c (exported: the inner script uses it too) and $g:
    // spelled out, their 64-hex paths made the script long enough to need an upload of its own (see command()).
    const c = "$c";
    const lower = `${ROOT}/images/${hex(spec.imageId)}/rootfs`;
    const cg = "$g";
    const limits = [
      spec.memoryBytes ? `echo ${Math.floor(spec.memoryBytes)} > ${cg}/memory.max; echo 0 > ${cg}/memory.swap.max 2>/dev/null;` : "",
      spec.pidsLimit && spec.pidsLimit > 0 ? `echo ${Math.floor(spec.pidsLimit)} > ${cg}/pids.max;` : "",
      spec.cpus ? `echo "${Math.max(1000, Math.round(spec.cpus * 100000))} 100000" > ${cg}/cpu.max;` : "",
    ].join(" ");
    const hostname = spec.hostname ?? spec.id.slice(0, 12);
    const workdir = spec.workingDir || "/";
    const marker = startedMarker(spec.id).toString().trim();
    // Wired: interfaces to plug in from outside once the namespace exists.
    const bridged = spec.network?.mode === "bridge" && spec.network.interfaces.length > 0;
    const envList = processEnv(spec.env ?? [], hostname, !!spec.tty);
    const env = ["env", "-i", ...envList.map(shellQuote)].join(" ");
    const confinement = spec.confinement ?? DEFAULT_CONFINEMENT;
    const rootfs = `${c}/rootfs`;
    // Inside the new namespaces: proc and a small /dev of its own, the hostname, the mounts; then the container's root
    // replaces the engine machine's and capsh drops what the container may not do (container-confinement.ts). Every
    // process costs the emulated guest ~10 ms: shell builtins and generated fstabs (one `mount -a` for many mounts) do the rest.
    const inner = [
      "set -e",
      // /proc and /dev must be folders of the container's own: a symlink there (left in its layer by a container
      // that could unmount them) would take these mounts, and the device template, into the engine machine's folders.
      `for d in proc dev; do if [ -L ${rootfs}/$d ] || [ ! -d ${rootfs}/$d ]; then rm -f ${rootfs}/$d; mkdir ${rootfs}/$d; fi; done`,
      `printf '%s\\n' "proc ${rootfs}/proc proc rw 0 0" "tmpfs ${rootfs}/dev tmpfs mode=755 0 0" > ${c}/fstab0 && mount -a -T ${c}/fstab0`,
      // Device nodes, /dev/pts, /dev/shm and the entry helper come from the template (one cp instead of a process each).
      `cp -a ${ROOT}/dev/. ${rootfs}/dev/`,
      `printf %s ${shellQuote(hostname)} > /proc/sys/kernel/hostname`,
      ...(spec.network ? innerNetworkSteps(c, spec.id, spec.network) : ["ip link set lo up"]),
      // (named busybox, so it takes its first argument as the applet)
      ...mountSteps(rootfs, "/dev/.hangar/busybox", spec.mounts ?? [], workdir),
      // The container's /dev/pts: its read-only view of the terminals' folder (the -t pty is there already).
      `f="\n${PTYS_VIEW_DIR}/${spec.id} ${rootfs}/dev/pts none rbind 0 0"`,
      ...(spec.network ? etcMountSteps(c, rootfs) : []),
      // The container's root moves to /root in the read-only tools folder (with the masks, unless privileged), then
      // pivot_root there detaches the engine machine's root: nothing of it (host shares, other containers) exists in
      // this namespace from here on.
      ...procMaskSteps(rootfs, c, `${TOOLS_DIR}/root`, confinement.privileged),
      `cd ${TOOLS_DIR} && pivot_root . old && umount -l /old`,
      // capsh (loaded from the tools, not the container) chroots into the container's root and runs a static busybox on
      // its private /dev, which enters the working directory, removes itself and execs the process (container-enter.ts).
      `exec ${env} ${capshCommand(confinement, "/root", "/dev/.hangar/busybox", enterArgs("/dev/.hangar", spec.user ?? "", workdir, spec.argv, envList), !!spec.tty)}`,
    ]
      .filter(Boolean)
      .join("\n");
    return [
      `c=${ROOT}/containers/${spec.id} g=${CGROUP}/${spec.id} y=${PTYS_DIR}/${spec.id}; export c`,
      "set -e",
      `mkdir -p ${c}/upper ${c}/work ${rootfs} ${c}/proc-ro ${cg} $y`,
      // (read by the shell: a restarted container's overlay is still mounted)
      `m=; while read -r _ p _; do [ "$p" != "${rootfs}" ] || m=1; done < /proc/mounts`,
      `[ -n "$m" ] || mount -t overlay overlay -o lowerdir=${INIT}:${lower},upperdir=${c}/upper,workdir=${c}/work ${rootfs}`,
      `[ -d ${rootfs}/tmp ] || mkdir -p ${rootfs}/tmp`,
      limits,
      `echo $$ > ${cg}/cgroup.procs`,
      ...(spec.network ? prepareNetworkSteps(c, spec.network) : []),
      // With a TTY the process's terminal (the channel's pty in the engine machine) is bound where the container's
      // /dev/pts shows it, under its own number (container-paths.ts).
      spec.tty ? `t=$(tty); t=\${t#/dev/pts/}; : > $y/$t; mount --bind /dev/pts/$t $y/$t` : "",
      "set +e",
      // fd 4 is the channel's stderr, for the container; the shell's own report of a killed job ("Killed") is not its output.
      "exec 4>&2 2>/dev/null",
      // The container's network is wired from outside its namespace once that exists: the two sides meet at named pipes
      // (blocking reads, no polling processes); the started mark follows (the wrapper below records unshare's pid first).
      ...(bridged
        ? [`( read x < ${c}/ns.fifo; r=failed; read u < ${c}/unshare.pid && ${attachNetworkSteps(spec.id, spec.network!, "$u")} && r=ok; echo $r 1<>${c}/net.fifo; echo ${marker} ) >&4 2>&4 &`]
        : []),
      // In the foreground (a background job would start with SIGINT and SIGQUIT ignored for good), through a wrapper that
      // records its pid, which becomes unshare's: the container's PID 1 is its child (what kill() signals).
      `sh -c ${shellQuote(`echo $$ > ${c}/unshare.pid; ${bridged ? "" : `echo ${marker} >&2; `}exec "$@"`)} - unshare --propagation slave -fmupi${spec.network?.mode === "host" ? "" : "n"} sh -c ${shellQuote(inner)} ${stdin || spec.tty ? "" : "</dev/null"} 2>&4 4>&-`,
      "status=$?",
      // A container that ended before its namespace was wired leaves the wiring side waiting: a line (through a
      // read-write open, which never blocks) lets it go.
      bridged ? `echo 1<>${c}/ns.fifo` : "",
      spec.tty ? `umount $y/$t; rm -f $y/$t` : "",
      // (the container's /proc and /dev were mounted in its own namespace only, and went with it)
      // --rm: cleaned up here, saving the host a round trip, and after the status is reported: in the background, its
      // output away from the channel, which closes as this shell exits (the shell leaves the cgroup first so it can go).
      // Otherwise the pid file is emptied (by the shell itself): the container no longer runs.
      spec.removeAfter ? `echo $$ > /sys/fs/cgroup/cgroup.procs; { umount ${rootfs}; rm -rf ${c}; rmdir ${cg}; } </dev/null >/dev/null 2>&1 4>&- &` : `: > ${c}/unshare.pid`,
      "exit $status",
    ]
      .filter(Boolean)
      .join("\n");
  }

  /**
   * The command line for a script: the script itself, or — past dropbear's
   * 9000-byte limit on an exec's command (it drops the connection) — a file
   * in the container's folder it is uploaded to first.
   */
  private async command(script: string, name: string): Promise<string> {
    if (Buffer.byteLength(script) <= MAX_COMMAND_BYTES) return script;
    const file = `${ROOT}/containers/${name}/run.sh`;
    await this.must(`mkdir -p ${ROOT}/containers/${name} && cat > ${file}`, "store a container's run script", script);
    return `exec sh ${file}`;
  }

  private async must(command: string, what: string, stdin?: string): Promise<void> {
    const res = await this.session.run(command, stdin === undefined ? {} : { stdin });
    if (res.code !== 0) throw new ContainerRuntimeError(`The engine machine could not ${what}: ${res.stderr.trim() || `exit status ${res.code}`}`);
  }
}

function startedMarker(id: string): Buffer {
  return Buffer.from(`hangar-container-started-${id}\n`);
}

function hex(imageId: string): string {
  const h = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(h)) throw new ContainerRuntimeError(`${imageId} is not an image ID.`);
  return h;
}
