import type { MachineSession } from "../../machines/machine-session";
import { shellQuote } from "../../util/shell-quote";
import { runOnChannel, type ConsoleIo, type ConsoleSize } from "./container-console";
import { capshCommand, type Confinement } from "./container-confinement";
import { ENTER_SCRIPT, enterArgs, enterIdsStep, processEnv } from "./container-enter";
import { CGROUP_DIR, pid1Script, PTYS_DIR } from "./container-paths";

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
  /** The container's own (or, with `docker exec --privileged`, every capability). */
  confinement: Confinement;
  /** The container's hostname (HOSTNAME in the environment when it has none, as Docker sets it). */
  hostname: string;
}

const MARKER = "hangar-exec-started";

/**
 * Runs a process in a running container's namespaces, as `docker exec`: the
 * container's PID 1 is found (the child of the pid its run script recorded)
 * and busybox `nsenter -t PID1 -m -u -i -n -p` enters its mount, UTS, IPC,
 * network and PID namespaces, where the root is the read-only tools folder
 * with the container's root at /root (container-confinement.ts): nothing
 * of the engine machine's. There the tools' own busybox copies itself into
 * the container's private /dev (every path resolved inside that namespace),
 * and capsh drops the container's capabilities (or none, `--privileged`),
 * chroots into /root and runs the copy, which resolves the user, enters
 * the working directory and execs (container-enter.ts). The process joins
 * the container's cgroup, so its limits and `docker top` include it. With a
 * TTY the process leads a session of its own on the pty dropbear gives the
 * channel, bound into the container's terminals folder first, so it has its
 * name under the container's /dev/pts (container-paths.ts): `tty` names it
 * and sh has job control.
 * Resolves with the process's exit status; `onStarted` gets its pid in the
 * engine machine.
 */
export function runExec(session: MachineSession, spec: ExecSpec, io: ConsoleIo): Promise<number> {
  // A refused exec request ("Unable to exec": bookworm's dropbear, in boxes before revision 7, see MachineSession.run)
  // is made again, each attempt with a helper folder of its own, as the refused one may have run.
  let attempt = 0;
  return runOnChannel(session, () => execScript(spec, `/dev/.hangar-exec-${spec.execId.slice(0, 16)}${attempt++ ? `-${attempt}` : ""}`), MARKER, io, true);
}

function execScript(spec: ExecSpec, helper: string): string {
  const env = processEnv(spec.env, spec.hostname, !!spec.tty);
  const enter = [
    `mkdir /root${helper} && cp /bin/busybox /root${helper}/busybox && printf %s ${shellQuote(ENTER_SCRIPT)} > /root${helper}/enter || exit 126`,
    enterIdsStep("/root", helper, shellQuote(spec.user), shellQuote(spec.workingDir || "/")),
    `exec ${capshCommand(spec.confinement, "/root", `${helper}/busybox`, enterArgs(helper, spec.workingDir, spec.argv, env), !!spec.tty)}`,
  ].join("\n");
  return [
    pid1Script(spec.containerId),
    `[ -n "$p" ] || { echo "Container ${spec.containerId} is not running" >&2; exit 126; }`,
    `echo $$ > ${CGROUP_DIR}/${spec.containerId}/cgroup.procs 2>/dev/null`,
    `echo ${MARKER} $$ >&2`,
    // With a TTY: the channel's pty bound into the container's terminals folder, where its /dev/pts shows it (container-paths.ts).
    // (and unbound when the exec ends, however it ends: a hangup of its terminal included)
    spec.tty
      ? `y=${PTYS_DIR}/${spec.containerId}; t=$(tty); t=\${t#/dev/pts/}; trap 'exit 129' HUP TERM; trap '[ ! -e $y/$t ] || { umount $y/$t; rm -f $y/$t; } 2>/dev/null' EXIT; [ ! -d $y ] || { : > $y/$t && mount --bind /dev/pts/$t $y/$t; }`
      : "",
    `env -i ${env.map(shellQuote).join(" ")} nsenter -t $p -m -u -i -n -p /bin/busybox sh -c ${shellQuote(enter)}`,
    "s=$?",
    // (the helper removes itself; not when it failed before that)
    `[ ! -e /proc/$p/root${helper} ] || nsenter -t $p -m /bin/busybox rm -rf /root${helper} 2>/dev/null`,
    "exit $s",
  ]
    .filter(Boolean)
    .join("\n");
}

/**
 * Kills what an exec started, on the engine machine (a health probe past
 * its timeout): every descendant of `pid`, the script its channel runs
 * (it reported that pid started), deepest first, but not the script
 * itself, which then ends as after any exec, closing its channel. (An
 * earlier version that stopped and killed the script too left the
 * container's own run never reporting its end: `docker rm -f` hung.)
 */
export async function killExecTree(session: MachineSession, pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 1) return;
  const script = `k() { for c in $(cat /proc/$1/task/*/children 2>/dev/null); do k $c; kill -KILL $c 2>/dev/null; done; }; k ${pid}; exit 0`;
  // Killing twice is harmless, so a refused exec request is asked again (a probe left running would outlive its timeout).
  await session.run(script, { retryRefused: true });
}
