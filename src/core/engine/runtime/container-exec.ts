import type { MachineSession } from "../../machines/machine-session";
import { shellQuote } from "../../machines/machine-runner";
import { runOnChannel, type ConsoleIo, type ConsoleSize } from "./container-console";
import { enterCommand } from "./container-enter";
import { CONTAINERS_DIR, CGROUP_DIR, pid1Script } from "./container-paths";

/** A process to start in a running container (`docker exec`). */
export interface ExecSpec {
  containerId: string;
  /** Names the helper's folder; hex. */
  execId: string;
  argv: string[];
  /** The whole environment (the container's, the exec's over it). */
  env: string[];
  /** Docker's user spec; empty for root. */
  user: string;
  workingDir: string;
  /** A terminal of this size instead of pipes (-t). */
  tty?: ConsoleSize;
}

const MARKER = "hangar-exec-started";

/**
 * Runs a process in a running container's namespaces, as `docker exec`: the
 * container's PID 1 is found (the child of the pid its run script recorded),
 * a static busybox is copied into the container's private /dev, and busybox
 * `nsenter -t PID1 -m -u -i -n -p -r` enters its mount, UTS, IPC, network
 * and PID namespaces and its root; the helper then resolves the user, enters
 * the working directory and execs (container-enter.ts). The process joins
 * the container's cgroup, so its limits and `docker top` include it. With a
 * TTY, the pty dropbear gives the channel is bound at its own path in the
 * container's /dev/pts and the process leads a session of its own on it.
 * Resolves with the process's exit status; `onStarted` gets its pid in the
 * engine machine.
 */
export function runExec(session: MachineSession, spec: ExecSpec, io: ConsoleIo): Promise<number> {
  const c = `${CONTAINERS_DIR}/${spec.containerId}`;
  const helper = `/dev/.hangar-exec-${spec.execId.slice(0, 16)}`;
  const env = [...spec.env, ...(spec.tty && !spec.env.some((e) => e.startsWith("TERM=")) ? ["TERM=xterm"] : [])];
  const bind = `touch ${c}/rootfs$1 && mount --bind $1 ${c}/rootfs$1`;
  const script = [
    pid1Script(spec.containerId),
    `[ -n "$p" ] || { echo "Container ${spec.containerId} is not running" >&2; exit 126; }`,
    `mkdir /proc/$p/root${helper} && cp /bin/busybox /proc/$p/root${helper}/busybox || exit 126`,
    `echo $$ > ${CGROUP_DIR}/${spec.containerId}/cgroup.procs 2>/dev/null`,
    // (a mount in the container's mount namespace has to be made from inside it)
    spec.tty ? `t=$(tty) && nsenter -t $p -m sh -c ${shellQuote(bind)} - "$t"` : "",
    `echo ${MARKER} $$ >&2`,
    `env -i ${env.map(shellQuote).join(" ")} nsenter -t $p -m -u -i -n -p -r -w ${enterCommand(helper, spec.user, spec.workingDir, spec.argv, !!spec.tty)}`,
    "s=$?",
    spec.tty ? `nsenter -t $p -m sh -c ${shellQuote(`umount ${c}/rootfs$1; rm -f ${c}/rootfs$1`)} - "$t" 2>/dev/null` : "",
    // (the helper removes itself; not when it failed before that)
    `rm -rf /proc/$p/root${helper} 2>/dev/null`,
    "exit $s",
  ]
    .filter(Boolean)
    .join("\n");
  return runOnChannel(session, script, MARKER, io);
}
