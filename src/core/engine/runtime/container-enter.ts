import { shellQuote } from "../../machines/machine-runner";

/**
 * The last step of starting a container's process, `docker run` and
 * `docker exec` alike. It runs as root, already chrooted into the container,
 * from a static busybox the engine copied into the container's private /dev
 * (so images without a shell or awk work too), with arguments
 * `HELPER_DIR USER WORKDIR ARGV...`:
 *
 * - USER (Docker's `-u` / image USER: `name`, `uid`, `name:group`,
 *   `uid:gid`, or empty for root) is resolved as runc resolves it — the
 *   container's own /etc/passwd by name, then by uid; a numeric uid that is
 *   not there runs with gid 0 and HOME=/; a group by name or gid from
 *   /etc/group. An unknown name fails with Docker's message and status 126.
 * - HOME is set from the user's passwd entry when the environment has none.
 * - The helper deletes itself, enters WORKDIR (126 when it cannot), and
 *   execs ARGV — after dropping to the user with `nsenter -S uid -G gid`
 *   run from /proc/self/exe, the already deleted helper (busybox picks the
 *   applet from argv[0], hence `exec -a`). That drop clears supplementary
 *   groups: Docker would add the user's groups from /etc/group.
 */
const ENTER = [
  'h=$1 u=$2 w=$3; shift 3; B=$h/busybox',
  'n=${u%%:*}; g=; case $u in *:*) g=${u#*:};; esac; [ -n "$n" ] || n=0',
  `e=$($B awk -F: -v n="$n" '$1==n{print $3":"$4":"$6; f=1; exit} n~/^[0-9]+$/ && $3==n && m==""{m=$3":"$4":"$6} END{if(!f && m!="") print m}' /etc/passwd 2>/dev/null)`,
  'if [ -n "$e" ]; then uid=${e%%:*}; r=${e#*:}; gid=${r%%:*}; home=${r#*:}',
  'else case $n in *[!0-9]*) echo "unable to find user $n: no matching entries in passwd file" >&2; exit 126;; esac; uid=$n gid=0 home=/; fi',
  'if [ -n "$g" ]; then',
  `  x=$($B awk -F: -v g="$g" '$1==g{print $3; f=1; exit} g~/^[0-9]+$/ && $3==g && m==""{m=$3} END{if(!f && m!="") print m}' /etc/group 2>/dev/null)`,
  '  if [ -n "$x" ]; then gid=$x; else case $g in *[!0-9]*) echo "unable to find group $g: no matching entries in group file" >&2; exit 126;; esac; gid=$g; fi',
  'fi',
  '[ -n "${HOME+x}" ] || export HOME="${home:-/}"',
  '$B rm -rf "$h"',
  'cd "$w" || exit 126',
  '[ -z "$u" ] || exec -a nsenter /proc/self/exe -S "$uid" -G "$gid" -- "$@"',
  'exec "$@"',
].join("\n");

/**
 * The command (for a shell) that runs ENTER with the helper in `helperDir`
 * (a path inside the container's root). With `newSession`, the process
 * first becomes a session leader with its terminal (stdin) as controlling
 * terminal, as a container's process with a TTY is: Ctrl-C then reaches it,
 * not the engine's processes around it.
 */
export function enterCommand(helperDir: string, user: string, workdir: string, argv: string[], newSession = false): string {
  const busybox = shellQuote(`${helperDir}/busybox`);
  return [
    ...(newSession ? [busybox, "setsid", "-c"] : []),
    busybox,
    "sh",
    "-c",
    shellQuote(ENTER),
    "-",
    shellQuote(helperDir),
    shellQuote(user),
    shellQuote(workdir || "/"),
    ...argv.map(shellQuote),
  ].join(" ");
}

/** Whether a user spec means root with root's group (no privilege change needed). */
export function isRootUser(user: string | undefined): boolean {
  return !user || /^(0|root)(:(0|root))?$/.test(user);
}
