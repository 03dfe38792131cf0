import { shellQuote } from "../../util/shell-quote";

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

/**
 * Shell lines, run inside the container's mount namespace after its root is
 * set up and before chroot, that put each mount in place: parents before
 * children. The destination is created and resolved *inside* the container
 * root (with the container's own busybox under chroot), so a symlink in the
 * image such as /var/run -> /run leads where it does in the container and
 * can never lead out of it into the engine machine. A read-only mount is a
 * bind remounted ro. The mounts vanish with the namespace, so removing the
 * container never reaches into a volume. A failing mount ends the container
 * with status 125 and says which.
 */
export function mountSteps(rootfs: string, busybox: string, mounts: GuestMount[], workingDir: string): string[] {
  if (!mounts.length) return [];
  // (rootfs may be a shell variable's expansion, hence double quotes)
  const inRoot = `chroot "${rootfs}" ${busybox}`;
  const ordered = [...mounts].sort((a, b) => depth(a.destination) - depth(b.destination));
  const lines = ordered.map((m) => {
    const dest = shellQuote(m.destination);
    const src = shellQuote(m.source);
    // A file (bind of a host file) needs a file to mount on; everything else a directory.
    const make =
      m.kind === "bind"
        ? `if [ -d ${src} ]; then ${inRoot} mkdir -p ${dest}; else ${inRoot} mkdir -p "$(dirname ${dest})" && { ${inRoot} test -e ${dest} || ${inRoot} touch ${dest}; }; fi`
        : `${inRoot} mkdir -p ${dest}`;
    const resolve = `t="${rootfs}$(${inRoot} readlink -f ${dest})"`;
    const steps = [make, resolve];
    // cp's complaints about what 9p cannot hold (device nodes) go to the container's log; the rest is copied.
    if (m.kind === "bind" && m.copyUp) steps.push(`{ [ ! -d "$t" ] || [ -n "$(ls -A ${src})" ] || cp -a "$t/." ${src}/ || true; }`);
    steps.push(m.kind === "bind" ? `mount --bind ${src} "$t"` : `mount -t tmpfs -o ${shellQuote(m.options ?? "")} tmpfs "$t"`);
    if (m.readOnly && m.kind === "bind") steps.push(`mount -o remount,bind,ro "$t"`);
    const what = m.kind === "bind" ? `${m.source} at ${m.destination}` : `a tmpfs at ${m.destination}`;
    return `{ ${steps.join(" && ")}; } || { echo ${shellQuote(`hangar: mounting ${what} in the container failed`)} >&2; exit 125; }`;
  });
  // The working directory may lie in a mount: made again now that the mounts are there (a read-only one may refuse; cd then says so).
  lines.push(`${inRoot} mkdir -p ${shellQuote(workingDir)} 2>/dev/null || true`);
  return lines;
}

function depth(p: string): number {
  return p.split("/").length;
}
