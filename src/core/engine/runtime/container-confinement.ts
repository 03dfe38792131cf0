import { HangarError } from "../../util/errors";

/**
 * How a container is confined in the engine machine, as runc confines one:
 *
 * - Its mount namespace holds nothing of the engine machine's: the run
 *   script moves the container's root under TOOLS_DIR (a read-only bind of
 *   the few trusted programs below), `pivot_root`s there and detaches the
 *   engine machine's root, so the host shares (/var/lib/hangar/host/N) and
 *   other containers' folders do not exist in it.
 * - capsh, loaded from that trusted root (never from the container's, whose
 *   /etc/ld.so.preload or libc could be anything), drops every capability
 *   outside the container's set from the bounding set and chroots into the
 *   container's root; the process it runs as root then holds exactly that
 *   set (permitted = effective = bounding; inheritable empty, as Docker 23+).
 * - /proc paths that reach the kernel are masked or read-only (Docker's
 *   lists, in container-runtime.sh).
 *
 * What this does not give (README, "Confinement"): no user namespaces (root
 * in a container is root in the engine machine, held by the capabilities
 * above), no seccomp filter, no AppArmor/SELinux; --privileged (and
 * SYS_ADMIN added) containers can reach the engine machine's devices,
 * including the host share, as Docker's privileged containers reach the host.
 */

/** The engine machine's folder of trusted programs a container's namespace is pivoted into (read-only there). */
export const TOOLS_DIR = "/var/lib/hangar/tools";

/** Every capability the engine machine's kernel (Linux 6.1) knows, in number order. */
const ALL = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
] as const;

/** Docker's default set (moby oci/caps/defaults.go): CapEff 00000000a80425fb. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
];

/** What a container's process may do; the same for its `docker exec` processes and its Dockerfile RUN steps. */
export interface Confinement {
  /** Capability names (without CAP_) kept in every set. */
  capabilities: string[];
  /** --privileged: every capability, no masked or read-only /proc paths. */
  privileged: boolean;
  /** --security-opt no-new-privileges: setuid bits and file capabilities grant nothing. */
  noNewPrivileges: boolean;
}

export class CapabilityError extends HangarError {}

/** Docker's default confinement. */
export const DEFAULT_CONFINEMENT: Confinement = { capabilities: [...DEFAULT_CAPABILITIES], privileged: false, noNewPrivileges: false };

/**
 * The confinement `docker run` asks for: Docker's defaults, then --cap-add
 * and --cap-drop as moby's TweakCapabilities applies them (ALL on either
 * side; names with or without CAP_, any case; an unknown name is an error,
 * in Docker's words), --privileged, and `no-new-privileges` security options.
 */
export function confinementOf(o: { CapAdd?: unknown; CapDrop?: unknown; Privileged?: unknown; SecurityOpt?: unknown }): Confinement {
  const add = capabilityList(o.CapAdd, "CapAdd");
  const drop = capabilityList(o.CapDrop, "CapDrop");
  const security = Array.isArray(o.SecurityOpt) ? o.SecurityOpt.filter((s): s is string => typeof s === "string") : [];
  const noNewPrivileges = security.some((s) => /^no-new-privileges(?:[:=]true)?$/.test(s));
  for (const s of security) {
    if (/^no-new-privileges(?:[:=](true|false))?$/.test(s)) continue;
    // seccomp=unconfined and apparmor=unconfined ask for less than Hangar applies anyway (it has neither).
    if (/^(seccomp|apparmor)[:=]unconfined$/.test(s)) continue;
    throw new CapabilityError(`Invalid --security-opt: ${s}: Hangar's engine supports no-new-privileges only (it has no seccomp, AppArmor or SELinux profiles to choose).`);
  }
  if (o.Privileged === true) return { capabilities: [...ALL], privileged: true, noNewPrivileges };
  let kept: string[];
  if (drop.includes("ALL")) kept = add.includes("ALL") ? [...ALL] : add.filter((c) => c !== "ALL");
  else if (add.includes("ALL")) kept = ALL.filter((c) => !drop.includes(c));
  else kept = [...DEFAULT_CAPABILITIES, ...add].filter((c) => !drop.includes(c) || add.includes(c));
  return { capabilities: ALL.filter((c) => kept.includes(c)), privileged: false, noNewPrivileges };
}

function capabilityList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new CapabilityError(`invalid ${field}: expected a list of capabilities`);
  return value.map((v) => {
    const name = String(v).toUpperCase().replace(/^CAP_/, "");
    if (name !== "ALL" && !(ALL as readonly string[]).includes(name)) throw new CapabilityError(`invalid ${field}: unknown capability: "${String(v)}"`);
    return name;
  });
}

/** The status file's hex mask of a capability set (as /proc/PID/status prints CapEff). */
export function capabilityMask(names: readonly string[]): string {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt((ALL as readonly string[]).indexOf(n));
  return mask.toString(16).padStart(16, "0");
}

/**
 * Shell lines (run once per engine machine boot) that make TOOLS_DIR: hard
 * links to the engine machine's static busybox, capsh and the two libraries
 * and loader capsh needs (no copies: the root file system is one tmpfs),
 * empty `root` (where the container's root is moved) and `old` (where the
 * engine machine's root goes until it is detached), all behind a read-only
 * bind so nothing in a container's namespace can change them.
 */
export function toolsSetupSteps(): string[] {
  const t = TOOLS_DIR;
  return [
    // (a box from before confinement has no capsh; the engine machine must be made from a current box)
    `{ [ -x /sbin/capsh ] || { echo "This engine machine's box has no capsh, which confines containers: rebuild the default box (hangar box build) and restart the engine (hangar engine stop)." >&2; false; }; }`,
    `mkdir -p ${t}/bin ${t}/sbin ${t}/lib/i386-linux-gnu ${t}/root ${t}/old`,
    `ln -f /bin/busybox ${t}/bin/busybox && ln -f /sbin/capsh ${t}/sbin/capsh`,
    `ln -f "$(readlink -f /lib/ld-linux.so.2)" ${t}/lib/ld-linux.so.2`,
    // (libc is under /usr/lib in a box whose libc is merged-/usr, libcap under /lib: either is looked for)
    `for l in libc.so.6 libcap.so.2; do f=/lib/i386-linux-gnu/$l; [ -e $f ] || f=/usr/lib/i386-linux-gnu/$l; ln -f "$(readlink -f $f)" ${t}/lib/i386-linux-gnu/$l || exit 1; done`,
    `mount --bind ${t} ${t} && mount -o remount,bind,ro ${t}`,
  ];
}

/** capsh's names of the capabilities outside the container's set (none when privileged). */
export function capabilitiesToDrop(c: Confinement): string[] {
  return c.privileged ? [] : ALL.filter((n) => !c.capabilities.includes(n)).map((n) => `cap_${n.toLowerCase()}`);
}

/**
 * The command line that ends a container's set-up inside its namespaces,
 * run from TOOLS_DIR as root: capsh drops the capabilities outside the set
 * from the bounding set, (with no-new-privileges) sets that bit, chroots
 * into `root` (a path in TOOLS_DIR's tree) and runs `shell` (a path in the
 * container's root: a static busybox the engine put there) with `args`.
 * With `newSession` (a TTY), the tools' busybox first makes the process a
 * session leader with its terminal (stdin) as controlling terminal, as a
 * container's process with a TTY is (Ctrl-C and job control then work in
 * it): while it still holds CAP_SYS_ADMIN, which taking over a terminal
 * that leads another session (the engine's shell's) needs. The gid and
 * supplementary groups are the ones enterIdsStep (container-enter.ts) left
 * in the shell's $__hangar_gid and $__hangar_groups.
 */
export function capshCommand(c: Confinement, root: string, shell: string, args: string, newSession = false): string {
  const drop = capabilitiesToDrop(c);
  return [
    newSession ? "/bin/busybox setsid -c" : "",
    "/sbin/capsh --quiet",
    '--groups="$__hangar_groups" --gid="$__hangar_gid"',
    drop.length ? `--drop=${drop.join(",")}` : "",
    c.noNewPrivileges ? "--no-new-privs" : "",
    `--chroot=${root}`,
    `--shell=${shell}`,
    "--",
    args,
  ]
    .filter(Boolean)
    .join(" ");
}
