import type { MachineSession } from "../../machines/machine-session";
import { HangarError } from "../../util/errors";
import { CGROUP_DIR, pid1Script } from "./container-paths";

/** What `docker top` answers: `ps -ef`'s columns and one row per process. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

const TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
/** Clock ticks per second of the engine machine's kernel (USER_HZ). */
const TICKS = 100;

/**
 * `docker top`: the processes of the container's cgroup (its run and exec
 * processes), read from the engine machine's /proc (its busybox has no
 * pgrep, and its ps has no -e/-f), as `ps -ef` would show them on the
 * engine machine. Only those in the container's PID namespace count: the
 * engine's own wrappers (unshare, nsenter) share the cgroup but not the
 * namespace. Undefined when the container has no process.
 */
export async function containerTop(session: MachineSession, containerId: string): Promise<TopResult | undefined> {
  // Few processes per process (the guest forks slowly): one cat each for status, stat and command line, one ls for every namespace link.
  const script = [
    pid1Script(containerId),
    '[ -n "$p" ] || exit 3',
    "grep '^btime' /proc/stat",
    'echo "@ns $(readlink /proc/$p/ns/pid)"',
    `pids=$(cat ${CGROUP_DIR}/${containerId}/cgroup.procs)`,
    "ls -l $(for q in $pids; do echo /proc/$q/ns/pid; done) 2>/dev/null",
    'for q in $pids; do echo "@ $q"; cat /proc/$q/status /proc/$q/stat /proc/$q/cmdline 2>/dev/null; echo; done',
  ].join("\n");
  const res = await session.run(script);
  if (res.code === 3) return undefined;
  if (res.code !== 0) throw new HangarError(`Listing the processes of container ${containerId.slice(0, 12)} failed: ${res.stderr.trim() || `exit status ${res.code}`}`);
  const btime = Number(/^btime (\d+)/m.exec(res.stdout)?.[1] ?? 0);
  const ns = /^@ns (.*)$/m.exec(res.stdout)?.[1];
  // ls -l: "... /proc/PID/ns/pid -> pid:[N]"; only the container's PID namespace counts.
  const inside = new Set([...res.stdout.matchAll(/\/proc\/(\d+)\/ns\/pid -> (\S+)$/gm)].filter((m) => m[2] === ns).map((m) => m[1]));
  const rows: string[][] = [];
  for (const block of res.stdout.split(/^@ /m).slice(1)) {
    const pid = /^\d+/.exec(block)?.[0];
    if (!pid || !inside.has(pid)) continue;
    const uid = /^Uid:\s+(\d+)/m.exec(block)?.[1] ?? "?";
    // The stat line starts "PID (", after status's lines; the command line (NUL-separated) follows it.
    const at = block.search(new RegExp(`^${pid} \\(`, "m"));
    if (at < 0) continue;
    const eol = block.indexOf("\n", at);
    const row = psRow(uid, block.slice(at, eol), block.slice(eol + 1).replace(/\0/g, " "), btime);
    if (row) rows.push(row);
  }
  rows.sort((a, b) => Number(a[1]) - Number(b[1]));
  return { Titles: TITLES, Processes: rows };
}

/** One `ps -ef` row from /proc/PID/stat (the command name may hold spaces and parentheses: the fields follow its last ")"). */
function psRow(uid: string, stat: string, cmdline: string, btime: number): string[] | undefined {
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const pid = stat.slice(0, open).trim();
  const comm = stat.slice(open + 1, close);
  const f = stat.slice(close + 2).split(" ");
  const [ppid, ttyNr, utime, stime, start] = [f[1], Number(f[4]), Number(f[11]), Number(f[12]), Number(f[19])];
  const started = new Date((btime + start / TICKS) * 1000);
  const cpu = Math.floor((utime + stime) / TICKS);
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  const tty = ttyNr === 0 ? "?" : major >= 136 && major <= 143 ? `pts/${(major - 136) * 256 + minor}` : `${major}:${minor}`;
  return [
    uid === "0" ? "root" : uid,
    pid,
    ppid,
    "0",
    `${pad(started.getHours())}:${pad(started.getMinutes())}`,
    tty,
    `${pad(Math.floor(cpu / 3600))}:${pad(Math.floor(cpu / 60) % 60)}:${pad(cpu % 60)}`,
    // (as ps shows them: control characters, line breaks included, as "?")
    [...cmdline.trim()].map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? "?" : ch)).join("") || `[${comm}]`,
  ];
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
