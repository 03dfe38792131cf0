import { shellQuote } from "../../util/shell-quote";

/**
 * The last steps of starting a container's process, `docker run` and
 * `docker exec` alike: a script file (ENTER_SCRIPT, placed at
 * `HELPER_DIR/enter` beside a static busybox the engine copied into the
 * container's private /dev, so images without a shell work too), run by
 * that busybox chrooted into the container, twice:
 *
 * 1. `--ids USER WORKDIR` (ENTER_IDS_STEP), as root before capsh drops
 *    anything: resolves USER (Docker's `-u` / image USER: `name`, `uid`,
 *    `name:group`, `uid:gid`, or empty for root) as runc and dockerd do —
 *    the container's own /etc/passwd by name, then by uid; a numeric uid
 *    that is not there runs with gid 0 and HOME=/; a group by name or gid
 *    from /etc/group; the supplementary groups are the gid, plus (when no
 *    group was given) every /etc/group entry that lists the user's name, as
 *    dockerd sets them. An unknown name fails with Docker's message and
 *    status 126. Makes WORKDIR when missing (as root, as Docker does).
 *    Prints `UID GID GROUPS HOME`; capsh then sets GID and GROUPS. The
 *    files are read by the shell itself (a process costs the emulated guest
 *    more than the whole lookup).
 * 2. `HELPER_DIR UID HOME WORKDIR RESTORE ARGV...`, after capsh (root with
 *    the container's capabilities, its gid and groups): sets HOME when the
 *    environment has none, enters WORKDIR (126 when it cannot), unsets the
 *    shell's SHLVL, PWD and OLDPWD, then RESTORE (shell `export` lines the
 *    engine made from the container's environment) puts back the ones the
 *    container sets itself — so the process gets exactly the environment
 *    given (the helper's own variables are __hangar_-prefixed and never
 *    exported). Deletes itself and execs ARGV, after dropping to UID with
 *    `nsenter -S UID` run from /proc/self/exe, the already deleted helper
 *    (busybox picks the applet from argv[0], hence `exec -a`); without -G,
 *    nsenter keeps the gid and groups capsh set.
 */
export const ENTER_SCRIPT = [
  'if [ "$1" = --ids ]; then',
  "  __hangar_u=$2 __hangar_w=$3",
  '  __hangar_n=${__hangar_u%%:*}; __hangar_g=; case $__hangar_u in *:*) __hangar_g=${__hangar_u#*:};; esac; [ -n "$__hangar_n" ] || __hangar_n=0',
  // (a numeric name matches a uid only when no entry has it as its name; the first such entry wins)
  "  __hangar_numeric() { case $1 in ''|*[!0-9]*) return 1;; esac; }",
  "  __hangar_e=; __hangar_m=",
  '  while IFS=: read -r __hangar_1 __hangar_2 __hangar_3 __hangar_4 __hangar_5 __hangar_6 __hangar_7 || [ -n "$__hangar_1" ]; do',
  '    if [ "$__hangar_1" = "$__hangar_n" ]; then __hangar_e=$__hangar_1:$__hangar_3:$__hangar_4:$__hangar_6; break; fi',
  '    [ -n "$__hangar_m" ] || ! __hangar_numeric "$__hangar_n" || [ "$__hangar_3" != "$__hangar_n" ] || __hangar_m=$__hangar_1:$__hangar_3:$__hangar_4:$__hangar_6',
  "  done 2>/dev/null </etc/passwd",
  '  [ -n "$__hangar_e" ] || __hangar_e=$__hangar_m',
  '  if [ -n "$__hangar_e" ]; then __hangar_name=${__hangar_e%%:*}; __hangar_e=${__hangar_e#*:}; __hangar_uid=${__hangar_e%%:*}; __hangar_e=${__hangar_e#*:}; __hangar_gid=${__hangar_e%%:*}; __hangar_home=${__hangar_e#*:}',
  '  else __hangar_numeric "$__hangar_n" || { echo "unable to find user $__hangar_n: no matching entries in passwd file" >&2; exit 126; }; __hangar_name= __hangar_uid=$__hangar_n __hangar_gid=0 __hangar_home=/; fi',
  '  if [ -n "$__hangar_g" ]; then',
  "    __hangar_x=; __hangar_m=",
  '    while IFS=: read -r __hangar_1 __hangar_2 __hangar_3 __hangar_4 || [ -n "$__hangar_1" ]; do',
  '      if [ "$__hangar_1" = "$__hangar_g" ]; then __hangar_x=$__hangar_3; break; fi',
  '      [ -n "$__hangar_m" ] || ! __hangar_numeric "$__hangar_g" || [ "$__hangar_3" != "$__hangar_g" ] || __hangar_m=$__hangar_3',
  "    done 2>/dev/null </etc/group",
  '    [ -n "$__hangar_x" ] || __hangar_x=$__hangar_m',
  '    if [ -n "$__hangar_x" ]; then __hangar_gid=$__hangar_x; else __hangar_numeric "$__hangar_g" || { echo "unable to find group $__hangar_g: no matching entries in group file" >&2; exit 126; }; __hangar_gid=$__hangar_g; fi',
  "  fi",
  '  __hangar_numeric "$__hangar_uid" && __hangar_numeric "$__hangar_gid" || { echo "invalid user $__hangar_u: its passwd or group entry has no numeric id" >&2; exit 126; }',
  // The user's groups by name (only when no group was given); a gid that is not a number is skipped.
  "  __hangar_s=$__hangar_gid",
  '  if [ -z "$__hangar_g" ] && [ -n "$__hangar_name" ]; then',
  '    while IFS=: read -r __hangar_1 __hangar_2 __hangar_3 __hangar_4 || [ -n "$__hangar_1" ]; do',
  '      case ",$__hangar_4," in *",$__hangar_name,"*) ! __hangar_numeric "$__hangar_3" || __hangar_s=$__hangar_s,$__hangar_3;; esac',
  "    done 2>/dev/null </etc/group",
  "  fi",
  // (the helper's own busybox: the image may have no mkdir)
  '  [ -d "$__hangar_w" ] || "${0%/*}/busybox" mkdir -p "$__hangar_w" 2>/dev/null',
  '  echo "$__hangar_uid $__hangar_gid $__hangar_s ${__hangar_home:-/}"',
  "  exit 0",
  "fi",
  "__hangar_h=$1 __hangar_uid=$2 __hangar_home=$3 __hangar_w=$4 __hangar_r=$5; shift 5",
  '[ -n "${HOME+x}" ] || export HOME="$__hangar_home"',
  'cd "$__hangar_w" || exit 126',
  '"$__hangar_h/busybox" rm -rf "$__hangar_h"',
  'unset SHLVL PWD OLDPWD; eval "$__hangar_r"',
  '[ "$__hangar_uid" = 0 ] || exec -a nsenter /proc/self/exe -S "$__hangar_uid" -- "$@"',
  'exec "$@"',
  "",
].join("\n");

/**
 * Shell for the tools' root (the container's root at `root`, the helper at
 * `helperDir` inside it): runs ENTER_SCRIPT's `--ids` step chrooted into the
 * container and leaves its answer in $__hangar_uid, $__hangar_gid,
 * $__hangar_groups and $__hangar_home (checked: numbers, a comma list);
 * exits with its status (126, its message on stderr) when it fails.
 * `user` and `workdir` are shell words (already quoted).
 */
export function enterIdsStep(root: string, helperDir: string, user: string, workdir: string): string {
  return [
    `__hangar_ids=$(chroot ${root} ${helperDir}/busybox sh ${helperDir}/enter --ids ${user} ${workdir}) || exit $?`,
    "__hangar_uid=${__hangar_ids%% *}; __hangar_ids=${__hangar_ids#* }; __hangar_gid=${__hangar_ids%% *}; __hangar_ids=${__hangar_ids#* }; __hangar_groups=${__hangar_ids%% *}; __hangar_home=${__hangar_ids#* }",
    'case "$__hangar_uid:$__hangar_gid:$__hangar_groups" in *[!0-9:,]*|:*|*::*|*:) echo "unable to resolve the user of the container" >&2; exit 126;; esac',
  ].join("\n");
}

/** Variables a shell sets for itself, which a container's process must only see when its environment has them. */
const SHELL_VARIABLES = ["SHLVL", "PWD", "OLDPWD"];

/**
 * The arguments for a static busybox that runs ENTER_SCRIPT's second step
 * from `helperDir` (a path inside the container's root): `sh DIR/enter …`,
 * after enterIdsStep in the same shell (its $__hangar_uid and
 * $__hangar_home). `env` is the container process's environment (for
 * RESTORE). (A TTY's new session is made before, by capshCommand.)
 */
export function enterArgs(helperDir: string, workdir: string, argv: string[], env: string[]): string {
  const restore = env
    .filter((e) => SHELL_VARIABLES.includes(e.slice(0, e.indexOf("="))))
    .map((e) => `export ${shellQuote(e)}`)
    .join("; ");
  return ["sh", shellQuote(`${helperDir}/enter`), shellQuote(helperDir), '"$__hangar_uid"', '"$__hangar_home"', shellQuote(workdir || "/"), shellQuote(restore), ...argv.map(shellQuote)].join(" ");
}

/** Docker's PATH for a container whose environment has none (moby oci.DefaultPathEnv). */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * A container process's environment as Docker gives it: the given one, plus
 * Docker's default PATH and HOSTNAME when it has none (and, with a TTY,
 * TERM=xterm when it has no TERM); HOME comes from the user's passwd entry
 * in ENTER.
 */
export function processEnv(env: string[], hostname: string, tty: boolean): string[] {
  const has = (name: string): boolean => env.some((e) => e.startsWith(`${name}=`));
  return [...(has("PATH") ? [] : [DEFAULT_PATH]), ...(has("HOSTNAME") ? [] : [`HOSTNAME=${hostname}`]), ...env, ...(tty && !has("TERM") ? ["TERM=xterm"] : [])];
}
