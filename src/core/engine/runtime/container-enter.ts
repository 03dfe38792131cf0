import { shellQuote } from "../../util/shell-quote";

/**
 * The last step of starting a container's process, `docker run` and
 * `docker exec` alike: a script file (ENTER_SCRIPT, placed at
 * `HELPER_DIR/enter` beside a static busybox the engine copied into the
 * container's private /dev, so images without a shell work too). It runs as
 * root with the container's capabilities, already chrooted into the
 * container (container-confinement.ts), with arguments
 * `HELPER_DIR USER WORKDIR RESTORE ARGV...`:
 *
 * - USER (Docker's `-u` / image USER: `name`, `uid`, `name:group`,
 *   `uid:gid`, or empty for root) is resolved as runc resolves it — the
 *   container's own /etc/passwd by name, then by uid; a numeric uid that is
 *   not there runs with gid 0 and HOME=/; a group by name or gid from
 *   /etc/group. An unknown name fails with Docker's message and status 126.
 *   The files are read by the shell itself (a process costs the emulated
 *   guest more than the whole lookup).
 * - HOME is set from the user's passwd entry when the environment has none.
 * - WORKDIR is made when missing (as root, as Docker makes it), then entered
 *   (126 when it cannot be).
 * - The environment the process gets is exactly the one given: the
 *   helper's own variables are __hangar_-prefixed and never exported (a
 *   plain name such as B would overwrite an image's ENV B), and the shell's
 *   SHLVL, PWD and OLDPWD are unset, then RESTORE (shell `export` lines the
 *   engine made from the container's environment) puts back the ones the
 *   container sets itself.
 * - The helper deletes itself and execs ARGV — after dropping to the user
 *   with `nsenter -S uid -G gid` run from /proc/self/exe, the already
 *   deleted helper (busybox picks the applet from argv[0], hence `exec -a`).
 *   That drop clears supplementary groups: Docker would add the user's
 *   groups from /etc/group.
 */
export const ENTER_SCRIPT = [
  "__hangar_h=$1 __hangar_u=$2 __hangar_w=$3 __hangar_r=$4; shift 4; __hangar_b=$__hangar_h/busybox",
  '__hangar_n=${__hangar_u%%:*}; __hangar_g=; case $__hangar_u in *:*) __hangar_g=${__hangar_u#*:};; esac; [ -n "$__hangar_n" ] || __hangar_n=0',
  // (a numeric name matches a uid only when no entry has it as its name; the first such entry wins)
  "__hangar_numeric() { case $1 in ''|*[!0-9]*) return 1;; esac; }",
  "__hangar_e=; __hangar_m=",
  'while IFS=: read -r __hangar_1 __hangar_2 __hangar_3 __hangar_4 __hangar_5 __hangar_6 __hangar_7 || [ -n "$__hangar_1" ]; do',
  '  if [ "$__hangar_1" = "$__hangar_n" ]; then __hangar_e=$__hangar_3:$__hangar_4:$__hangar_6; break; fi',
  '  [ -n "$__hangar_m" ] || ! __hangar_numeric "$__hangar_n" || [ "$__hangar_3" != "$__hangar_n" ] || __hangar_m=$__hangar_3:$__hangar_4:$__hangar_6',
  "done 2>/dev/null </etc/passwd",
  '[ -n "$__hangar_e" ] || __hangar_e=$__hangar_m',
  'if [ -n "$__hangar_e" ]; then __hangar_uid=${__hangar_e%%:*}; __hangar_e=${__hangar_e#*:}; __hangar_gid=${__hangar_e%%:*}; __hangar_home=${__hangar_e#*:}',
  'else __hangar_numeric "$__hangar_n" || { echo "unable to find user $__hangar_n: no matching entries in passwd file" >&2; exit 126; }; __hangar_uid=$__hangar_n __hangar_gid=0 __hangar_home=/; fi',
  'if [ -n "$__hangar_g" ]; then',
  "  __hangar_x=; __hangar_m=",
  '  while IFS=: read -r __hangar_1 __hangar_2 __hangar_3 __hangar_4 || [ -n "$__hangar_1" ]; do',
  '    if [ "$__hangar_1" = "$__hangar_g" ]; then __hangar_x=$__hangar_3; break; fi',
  '    [ -n "$__hangar_m" ] || ! __hangar_numeric "$__hangar_g" || [ "$__hangar_3" != "$__hangar_g" ] || __hangar_m=$__hangar_3',
  "  done 2>/dev/null </etc/group",
  '  [ -n "$__hangar_x" ] || __hangar_x=$__hangar_m',
  '  if [ -n "$__hangar_x" ]; then __hangar_gid=$__hangar_x; else __hangar_numeric "$__hangar_g" || { echo "unable to find group $__hangar_g: no matching entries in group file" >&2; exit 126; }; __hangar_gid=$__hangar_g; fi',
  "fi",
  '[ -n "${HOME+x}" ] || export HOME="${__hangar_home:-/}"',
  '[ -d "$__hangar_w" ] || $__hangar_b mkdir -p "$__hangar_w" 2>/dev/null',
  'cd "$__hangar_w" || exit 126',
  '$__hangar_b rm -rf "$__hangar_h"',
  'unset SHLVL PWD OLDPWD; eval "$__hangar_r"',
  '[ -z "$__hangar_u" ] || exec -a nsenter /proc/self/exe -S "$__hangar_uid" -G "$__hangar_gid" -- "$@"',
  'exec "$@"',
  "",
].join("\n");

/** Variables a shell sets for itself, which a container's process must only see when its environment has them. */
const SHELL_VARIABLES = ["SHLVL", "PWD", "OLDPWD"];

/**
 * The arguments for a static busybox that runs ENTER_SCRIPT from
 * `helperDir` (a path inside the container's root): `sh DIR/enter …`.
 * `env` is the container process's environment (for RESTORE). (A TTY's
 * new session is made before, by capshCommand.)
 */
export function enterArgs(helperDir: string, user: string, workdir: string, argv: string[], env: string[]): string {
  const restore = env
    .filter((e) => SHELL_VARIABLES.includes(e.slice(0, e.indexOf("="))))
    .map((e) => `export ${shellQuote(e)}`)
    .join("; ");
  return ["sh", shellQuote(`${helperDir}/enter`), shellQuote(helperDir), shellQuote(user), shellQuote(workdir || "/"), shellQuote(restore), ...argv.map(shellQuote)].join(" ");
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
