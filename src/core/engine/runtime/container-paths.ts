/** Where the engine machine keeps containers (the same folders guest-runtime.ts makes). */
export const CONTAINERS_DIR = "/var/lib/hangar/containers";
/** Where image root file systems are unpacked, one folder per image ID's hex. */
export const IMAGES_DIR = "/var/lib/hangar/images";
/**
 * Terminals: the engine machine's ptys a container's processes have (run
 * -t, exec -t) are bound into PTYS_DIR/ID/N, a shared mount; each
 * container's /dev/pts is a read-only view of PTYS_VIEW_DIR/ID (a peer of
 * PTYS_DIR, received as a slave in the container's namespace), so a pty
 * bound there later (an exec) appears in the running container as
 * /dev/pts/N, and nothing the container does reaches back.
 */
export const PTYS_DIR = "/var/lib/hangar/ptys";
export const PTYS_VIEW_DIR = "/var/lib/hangar/ptys-ro";
/** The cgroup (v2) containers' own cgroups live under. */
export const CGROUP_DIR = "/sys/fs/cgroup/hangar";

/**
 * Shell lines that set $p to the running container's PID 1 (as the engine
 * machine numbers it), or leave it empty: PID 1 is the child of the pid the
 * run script records in unshare.pid (the kernel lists a task's children; this
 * busybox has no pgrep). A container reported started may still be setting
 * itself up, its PID 1 not yet in the container's root (entering its mount
 * namespace then would find the engine machine's root, or the tools folder
 * without the container's root in it): wait, up to 10 s, until PID 1's root
 * is the container's (the overlay the engine mounted at ID/rootfs).
 */
export function pid1Script(containerId: string): string {
  const c = `${CONTAINERS_DIR}/${containerId}`;
  return [
    `r=$(stat -c %d:%i ${c}/rootfs/ 2>/dev/null)`,
    `for i in $(seq 100); do p=; u=$(cat ${c}/unshare.pid 2>/dev/null); [ -n "$u" ] && p=$(cat /proc/$u/task/$u/children 2>/dev/null); p=\${p%% *}`,
    '[ -n "$p" ] && [ "$(stat -L -c %d:%i /proc/$p/root/ 2>/dev/null)" = "$r" ] && break; [ -n "$u" ] || break; p=; sleep 0.1; done',
  ].join("\n");
}
