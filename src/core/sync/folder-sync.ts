import * as path from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { MachineSession } from "../machines/machine-session";
import { shellQuote } from "../util/shell-quote";
import { ALWAYS_EXCLUDED, compileExcludes } from "./sync-excludes";
import { packPaths, type GuestOwner } from "./tree-archive";

export interface SyncBatch {
  /** Paths written (created, modified, renamed to) and deleted in the guest. */
  written: number;
  deleted: number;
  /** Host event of the oldest change in the batch → guest has it, in ms. */
  latencyMs: number;
}

export interface FolderSyncOptions {
  hostPath: string;
  guestPath: string;
  excludes?: string[];
  /** Owner of what arrives in the guest (the machine's SSH user); root when unset. */
  owner?: GuestOwner;
  /** Quiet time before a batch is sent: a burst (a checkout) becomes one or a few batches. */
  settleMs?: number;
  onBatch?(batch: SyncBatch): void;
  onError?(err: Error): void;
}

/**
 * Follows a host folder into an rsync-type synced folder of a running
 * machine (Vagrant's `rsync-auto`): chokidar reports creates, changes,
 * deletes and renames (as delete + create); they are coalesced while the
 * folder is busy, then applied in one SSH exec per batch — deletions, then a
 * tar of the written paths (content, exec bit, symlinks, new directories).
 *
 * Direction and conflicts: the host is the source. A host change overwrites
 * the guest's copy of that path; files only the guest has are left alone;
 * nothing on the host is ever deleted or changed by the guest. (The default,
 * non-rsync synced folders need none of this: they are the host folder itself,
 * served over 9p, so both sides always see one copy.)
 */
export class FolderSync {
  private watcher?: FSWatcher;
  private readonly pending = new Map<string, { op: "write" | "delete"; at: number }>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly excluded: (rel: string, isDir: boolean) => boolean;
  private readonly root: string;

  constructor(
    private readonly session: MachineSession,
    private readonly o: FolderSyncOptions,
  ) {
    this.root = path.resolve(o.hostPath);
    this.excluded = compileExcludes([...ALWAYS_EXCLUDED, ...(o.excludes ?? [])]);
  }

  /** Starts watching; resolves once chokidar has scanned the tree (later changes are all seen). */
  start(): Promise<void> {
    const watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (p, stats) => {
        const rel = path.relative(this.root, p);
        return rel !== "" && !rel.startsWith("..") && this.excluded(rel.split(path.sep).join("/"), stats?.isDirectory() ?? false);
      },
    });
    this.watcher = watcher;
    const note = (op: "write" | "delete") => (p: string) => this.note(op, p);
    watcher.on("add", note("write")).on("change", note("write")).on("addDir", note("write")).on("unlink", note("delete")).on("unlinkDir", note("delete"));
    watcher.on("error", (err) => this.o.onError?.(err as Error));
    return new Promise((resolve) => watcher.once("ready", () => resolve()));
  }

  private note(op: "write" | "delete", abs: string): void {
    const rel = path.relative(this.root, abs).split(path.sep).join("/");
    if (!rel || rel.startsWith("..")) return;
    const earlier = this.pending.get(rel);
    this.pending.set(rel, { op, at: earlier?.at ?? Date.now() });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.o.settleMs ?? 40);
  }

  /** Sends what is pending now (also called by the timer); batches never overlap. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.send()).catch((err: unknown) => this.o.onError?.(err as Error));
    return this.flushing;
  }

  private async send(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending];
    this.pending.clear();
    const oldest = Math.min(...batch.map(([, v]) => v.at));
    const deleted = batch.filter(([, v]) => v.op === "delete").map(([rel]) => rel);
    // Parents before children, so tar creates directories before their files.
    const written = batch
      .filter(([, v]) => v.op === "write")
      .map(([rel]) => rel)
      .sort();
    const { archive, entries } = await packPaths(this.root, written, this.o.owner);
    const guest = shellQuote(this.o.guestPath);
    const steps = [`mkdir -p ${guest}`, `cd ${guest}`];
    if (deleted.length) steps.push(`rm -rf -- ${deleted.map((d) => shellQuote(d)).join(" ")}`);
    if (entries) steps.push("tar -x -f -");
    const r = await this.session.run(steps.join(" && "), entries ? { stdin: archive } : {});
    if (r.code !== 0) throw new Error(`Syncing ${batch.length} change(s) into ${this.o.guestPath} failed: ${r.stderr.trim()}`);
    this.o.onBatch?.({ written: entries, deleted: deleted.length, latencyMs: Date.now() - oldest });
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.watcher?.close();
    await this.flush();
  }
}
