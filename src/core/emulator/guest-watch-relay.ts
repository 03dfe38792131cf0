// Host edits under synced folders, replayed to the guest's inotify. 9p has no
// change notification, so a program in the guest that watches /vagrant
// (nodemon, webpack, inotifywait) would never hear of a save in the editor.
// Worse, a guest's own inotify watch on a folder below the mount point hears
// nothing at all: the 9p client (cache=none, Linux 6.1) drops a dentry as
// soon as it is unused and makes a new inode at the next lookup, so the
// watched inode is orphaned. The helper therefore holds every folder of the
// synced folders open (pinned: one descriptor each, up to PIN_MAX), which
// keeps its dentry and inode, and with them the watches on it.
//
// This relay, in the emulator's worker beside the 9p server, watches the
// shared host folders with chokidar and sends each batch of changed guest
// paths over a guest TCP connection to a small helper (WATCH_HELPER, started
// as the SSH user at `up`). The helper raises the events with operations that
// change nothing on the host: an open for writing closed unwritten
// (IN_CLOSE_WRITE), a truncate to NOTIFY_SIZE (IN_MODIFY; the 9p server
// answers that size with success and does nothing, so no race with an editor
// writing the file can cut it) and a chown to the owner it has (IN_ATTRIB;
// the 9p server never applies ownership), and that chown on the folder for
// entries added or removed (watchers re-read it); a new file gets
// IN_CLOSE_WRITE. Beyond FULL_EVENTS_PER_S files a second, a changed file
// gets IN_CLOSE_WRITE only and a new one its folder's event only: the
// emulated guest pays for every process and 9p round trip. No echo: changes the guest made itself (the
// 9p server reports them) and events that leave a file's size and mtime as
// they were (the helper's own chmod) are not replayed.
import * as path from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Stats } from "node:fs";
import { NOTIFY_SIZE } from "../shares/host-share-server";
import { compileExcludes } from "../sync/sync-excludes";
import { GuestTcp, type V86TcpConnection } from "./guest-tcp";

/** Folders the helper holds open at most (its shell has 1024 descriptors). */
export const PIN_MAX = 900;

/** The guest port the helper listens on. */
export const WATCH_PORT = 47601;
/** Where the helper and its token live in the guest (written at `up`, the token readable by the SSH user only). */
export const WATCH_HELPER_FILE = "/etc/hangar/watch-relay";
export const WATCH_TOKEN_FILE = "/etc/hangar/watch-token";

/**
 * The guest side, run by `nc -ll -e` for each connection (as the SSH user in
 * a machine, as root in the engine machine): the first line must be the
 * token; then "P <folder>" (hold it open), "U <folder>" (let it go), "S <id>"
 * (answer "synced <id>" once every line before it is done), "M <path>" (a file
 * changed), "W <path>" (the same, cheaply: IN_CLOSE_WRITE only) and "D
 * <path>" (a folder's entries changed), one per line.
 *
 * The guest may swap a file for a symlink between the test and the open (an
 * engine container owns the bind-mounted folder it sees): the truncate and
 * chown act on the descriptor opened, and only when it is on 9p (magic
 * 0x1021997), where both change nothing; chown -h never follows.
 */
export const WATCH_HELPER = `#!/bin/sh
# Hangar: replays host changes under synced folders as inotify events (guest-watch-relay.ts).
set -f
IFS= read -r token || exit 0
[ -n "$token" ] && [ "$token" = "$(cat ${WATCH_TOKEN_FILE} 2>/dev/null)" ] || exit 0
me=$(id -u)
nl='
'
fd=20
pins=""
free=""
while IFS= read -r line; do
  p=\${line#??}
  case $line in
    "P "*)
      n=""
      if [ -d "$p" ] && [ ! -L "$p" ]; then
        if [ -n "$free" ]; then n=\${free%% *}; free=\${free#* }; elif [ $fd -lt ${20 + PIN_MAX} ]; then n=$fd; fd=$((fd + 1)); fi
      fi
      if [ -n "$n" ]; then
        if eval "command exec $n<\\"\\$p\\""; then pins="$pins$n $p$nl"; else free="$free$n "; fi
      fi ;;
    "U "*)
      kept=""; IFS=$nl
      for e in $pins; do
        if [ "\${e#* }" = "$p" ]; then n=\${e%% *}; eval "exec $n<&-"; free="$free$n "; else kept="$kept$e$nl"; fi
      done
      unset IFS; pins=$kept ;;
    "M "*) [ -f "$p" ] && [ ! -L "$p" ] && command exec 3>>"$p" && [ "$(stat -f -c %t /proc/self/fd/3)" = 1021997 ] && { truncate -s ${NOTIFY_SIZE} /proc/self/fd/3; chown "$me" /proc/self/fd/3; }; exec 3>&- ;;
    "S "*) echo "synced $p" ;;
    "W "*) [ -f "$p" ] && [ ! -L "$p" ] && : >> "$p" ;;
    "D "*) [ -d "$p" ] && [ ! -L "$p" ] && chown -h "$me" "$p" ;;
  esac 2>/dev/null
done
`;

export interface WatchedFolder {
  /** The 9p share's name ("s0") and the host folder watched (the share's own folder or one inside it, as a real path). */
  share: string;
  hostPath: string;
  guestPath: string;
  /** rsync-style excludes (sync-excludes.ts), Hangar's own state folders among them. */
  exclude: string[];
  /** Where hostPath is inside its share ("" or absent: the share's own folder); the 9p server names the guest's changes by it. */
  inShare?: string;
}

/** One watched folder: its chokidar watcher and the guest folders it asked the helper to hold. */
interface WatchRoot {
  folder: WatchedFolder;
  watcher: FSWatcher;
  pins: Set<string>;
  ready: boolean;
  removed: boolean;
  /** Whether onFolderReady has been called for it. */
  reported: boolean;
}

/** Changes the guest made itself within this long before the host's event are its own echo. */
const GUEST_ECHO_MS = 1500;
/** Events are gathered this long before a batch goes to the guest. */
const BATCH_MS = 15;
/** Files per second that get every event (a branch switch must not flood the guest). */
const FULL_EVENTS_PER_S = 20;
/** How often a missing helper (still starting, or restarted) is tried again. */
const RECONNECT_MS = 300;
const MAX_RECONNECT_MS = 10_000;
/** A connection the guest has not answered by then is given up (a guest still booting answers nothing, not even a reset). */
const CONNECT_TIMEOUT_MS = 2000;

export class GuestWatchRelay {
  /** Watched folders by id: a machine's synced folders from the start, an engine container's bind mounts while it runs. */
  private readonly roots = new Map<string, WatchRoot>();
  private readonly guestChanges = new Map<string, number>();
  /** Size and mtime of each file as last replayed or seen from the guest: an event that leaves them is no change. */
  private readonly known = new Map<string, string>();
  /** Lines for the next batch, by "<kind> <guest path>" (a folder can be pinned and changed in one batch). */
  private pending = new Set<string>();
  /** Full replays left in this second, and when the second began. */
  private budget = { left: FULL_EVENTS_PER_S, since: 0 };
  /** Guest folders the helper holds open, with how many watched folders want each (two binds can overlap). */
  private readonly pinned = new Map<string, number>();
  private reconnect?: NodeJS.Timeout;
  /** Attempts since the helper last confirmed the token: the retry backs off (a helper with another token answers, then hangs up). */
  private failures = 0;
  /** Whether the helper has been asked to confirm it holds every folder (once per connection). */
  private syncAsked = false;
  /** Batches sent, for tests and diagnostics. */
  batches = 0;
  private timer?: NodeJS.Timeout;
  private tcp?: GuestTcp;
  private connected = false;
  private closed = false;

  constructor(
    folders: WatchedFolder[],
    private readonly token: string,
    private readonly connect: (port: number) => V86TcpConnection | undefined,
    /** The helper holds every folder: from now on, watches on them hold (once per connection). */
    private readonly onSynced: () => void = () => undefined,
    /** The helper holds every folder of the folder added under this id (once per add). */
    private readonly onFolderReady: (id: string) => void = () => undefined,
  ) {
    for (const [i, f] of folders.entries()) this.add(`synced-${i}`, f);
  }

  /** Starts watching a folder (again under an id already used: replaced). A guest path with a line break is refused (the helper reads lines). */
  add(id: string, f: WatchedFolder): void {
    if (this.closed || f.guestPath.includes("\n")) return;
    if (this.roots.has(id)) void this.remove(id);
    const excluded = compileExcludes(f.exclude);
    const watcher = watch(f.hostPath, {
      ignoreInitial: true,
      alwaysStat: true,
      // The guest can make symlinks in a synced folder: never follow one out to host folders it must not learn about.
      followSymlinks: false,
      ignored: (p: string, st?: Stats) => {
        const rel = path.relative(f.hostPath, p).split(path.sep).join("/");
        return rel !== "" && !rel.startsWith("..") && excluded(rel, st?.isDirectory() ?? false);
      },
    });
    const root: WatchRoot = { folder: f, watcher, pins: new Set(), ready: false, removed: false, reported: false };
    this.roots.set(id, root);
    watcher.on("all", (event, p, st) => this.onHostEvent(root, event, p, st));
    watcher.on("error", () => undefined);
    watcher.on("ready", () => {
      if (root.removed) return;
      for (const dir of Object.keys(watcher.getWatched())) this.pin(root, dir);
      root.ready = true;
      this.open();
      // Pinned lines go before this one: the helper's answer says it holds them.
      if (this.connected) this.queue(id, "S");
      this.queue(f.guestPath, "D", false);
    });
  }

  /** Stops watching a folder: the helper lets go of the guest folders no other watched folder holds. */
  async remove(id: string): Promise<void> {
    const root = this.roots.get(id);
    if (!root) return;
    this.roots.delete(id);
    root.removed = true;
    for (const guest of root.pins) this.unpin(root, guest);
    await root.watcher.close();
  }

  /** Watchers still scanning their folder (their folders are not all known yet). */
  private get scanning(): number {
    return [...this.roots.values()].filter((r) => !r.ready).length;
  }

  private pin(root: WatchRoot, hostDir: string): void {
    const f = root.folder;
    const rel = path.relative(f.hostPath, hostDir).split(path.sep).join("/");
    if (rel.startsWith("..") || rel.includes("\n") || this.pinned.size >= PIN_MAX) return;
    const guest = rel ? path.posix.join(f.guestPath, rel) : f.guestPath;
    if (root.pins.has(guest)) return;
    root.pins.add(guest);
    const count = (this.pinned.get(guest) ?? 0) + 1;
    this.pinned.set(guest, count);
    if (count === 1 && this.connected) this.queue(guest, "P");
  }

  private unpin(root: WatchRoot, guest: string): void {
    if (!root.pins.delete(guest)) return;
    const count = (this.pinned.get(guest) ?? 1) - 1;
    if (count > 0) return void this.pinned.set(guest, count);
    this.pinned.delete(guest);
    this.pending.delete(`P ${guest}`);
    if (this.connected) this.queue(guest, "U");
  }

  /** From the 9p server: the guest changed this entry itself. */
  guestChanged(share: string, rel: string): void {
    this.guestChanges.set(`${share}/${rel}`, Date.now());
    if (this.guestChanges.size > 10_000) for (const [k, t] of this.guestChanges) if (Date.now() - t > GUEST_ECHO_MS) this.guestChanges.delete(k);
  }

  private onHostEvent(root: WatchRoot, event: string, hostPath: string, st: Stats | undefined): void {
    const f = root.folder;
    if (root.removed) return;
    const rel = path.relative(f.hostPath, hostPath).split(path.sep).join("/");
    if (rel.startsWith("..") || rel.includes("\n")) return;
    const key = `${f.share}/${[f.inShare, rel].filter((p) => p).join("/")}`;
    const guestAt = this.guestChanges.get(key);
    const signature = st ? `${st.size}:${st.mtimeMs}` : "gone";
    const seen = this.known.get(key);
    this.known.set(key, signature);
    if (guestAt !== undefined && Date.now() - guestAt < GUEST_ECHO_MS) return;
    const guest = rel ? path.posix.join(f.guestPath, rel) : f.guestPath;
    if (event === "change") {
      if (seen === signature) return;
      this.queue(guest, "M");
    } else if (event === "add") {
      // Nobody can be watching a file that did not exist; its folder's watchers hear of it.
      this.queue(guest, "W");
      this.queue(path.posix.dirname(guest), "D");
    } else if (event === "addDir") {
      this.pin(root, hostPath);
      this.queue(path.posix.dirname(guest), "D");
    } else if (event === "unlink" || event === "unlinkDir") {
      this.known.delete(key);
      if (event === "unlinkDir") this.unpin(root, guest);
      this.queue(path.posix.dirname(guest), "D");
    }
  }

  private queue(guestPath: string, kind: "M" | "W" | "D" | "P" | "U" | "S", add = true): void {
    if (add) this.pending.add(`${kind} ${guestPath}`);
    if (this.pending.size > 5000) this.pending = new Set([...this.pending].slice(-5000));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, BATCH_MS);
  }

  private flush(): void {
    if (this.closed) return;
    // Until the helper answers there is nobody to tell; it pins every folder once it does.
    if (!this.tcp || !this.connected) return void this.pending.clear();
    const sync = this.syncLine();
    if (!this.pending.size && !sync) return;
    const now = Date.now();
    if (now - this.budget.since >= 1000) this.budget = { left: FULL_EVENTS_PER_S, since: now };
    // Over budget, a changed file gets IN_CLOSE_WRITE only and a new one its folder's event only.
    const lines =
      [...this.pending]
        .map((l) => {
          if (!l.startsWith("M ") && !l.startsWith("W ")) return `${l}\n`;
          if (this.budget.left > 0) {
            this.budget.left--;
            return `${l}\n`;
          }
          return l.startsWith("M ") ? `W${l.slice(1)}\n` : "";
        })
        .join("") + sync;
    this.pending.clear();
    this.batches++;
    this.tcp.write(new TextEncoder().encode(lines));
  }

  /**
   * One connection to the helper, kept: the token, then every folder to pin.
   * A helper not listening yet (the guest is still being prepared) or gone is
   * tried again shortly; a new helper pins every folder again.
   */
  private open(): void {
    if (this.closed || this.tcp || this.reconnect) return;
    const conn = this.connect(WATCH_PORT);
    if (!conn) return this.retry();
    let answers = "";
    const tcp = new GuestTcp(conn, {
      onConnect: () => {
        this.connected = true;
        this.syncAsked = false;
        const pins = [...this.pinned.keys()].map((g) => `P ${g}\n`).join("");
        tcp.write(new TextEncoder().encode(pins + this.syncLine()));
      },
      onData: (data) => {
        answers += new TextDecoder().decode(data);
        const lines = answers.split("\n");
        answers = lines.pop() ?? "";
        for (const line of lines) this.answered(line);
      },
      onEnd: () => {
        if (this.tcp !== tcp) return;
        this.tcp = undefined;
        this.connected = false;
        this.retry();
      },
    });
    this.tcp = tcp;
    tcp.write(new TextEncoder().encode(`${this.token}\n`));
    setTimeout(() => {
      if (this.tcp === tcp && !this.connected) this.abandon();
    }, CONNECT_TIMEOUT_MS);
  }

  /** "synced -": every folder known at connect is held; "synced <id>": that folder's are. */
  private answered(line: string): void {
    if (!line.startsWith("synced ")) return;
    this.failures = 0;
    const id = line.slice("synced ".length);
    if (id === "-") this.onSynced();
    for (const [rootId, root] of this.roots) {
      if (root.reported || !root.ready || (id !== "-" && id !== rootId)) continue;
      root.reported = true;
      this.onFolderReady(rootId);
    }
  }

  /** Gives up an unanswered connection and tries again shortly. */
  private abandon(): void {
    const tcp = this.tcp;
    this.tcp = undefined;
    tcp?.close();
    this.retry();
  }

  /** "S -" once per connection, when every folder is known: the helper answers when it holds them all. */
  private syncLine(): string {
    if (this.syncAsked || this.scanning > 0 || !this.connected) return "";
    this.syncAsked = true;
    return "S -\n";
  }

  /** The helper has just been started: connect now rather than at the next retry, so folders are held before anyone watches them. */
  helperStarted(): void {
    if (this.connected || this.closed) return;
    // The attempts before it failed for want of a helper, not because of one: retry soon, not after their back-off.
    this.failures = 0;
    // An attempt made before the helper listened may hang unanswered: start again.
    const stale = this.tcp;
    this.tcp = undefined;
    stale?.close();
    clearTimeout(this.reconnect);
    this.reconnect = undefined;
    this.open();
  }

  private retry(): void {
    if (this.closed || this.reconnect) return;
    const delay = Math.min(MAX_RECONNECT_MS, RECONNECT_MS * 2 ** Math.min(this.failures++, 6));
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      this.open();
    }, delay);
  }

  /** Whether the helper's connection is up (for diagnostics). */
  get linked(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.reconnect);
    this.tcp?.close();
    await Promise.all([...this.roots.values()].map((r) => r.watcher.close()));
    this.roots.clear();
  }
}
