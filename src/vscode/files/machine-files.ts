import * as path from "node:path/posix";
import type { SFTPWrapper, Stats } from "ssh2";
import * as vscode from "vscode";
import { MachineSession } from "../../core/machines/machine-session";
import { errorMessage } from "../../core/util/errors";
import type { HangarContext } from "../hangar-context";
import type { MachineRef } from "../workspace/workspace-machines";
import { MAX_DIRECTORY_ENTRIES, guestPath, isEntryName, machineAuthority } from "./machine-file-names";

export const MACHINE_FILES_SCHEME = "hangar-machine";
/** Editors open files up to this size; bigger ones are refused before a byte is read. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const READ_CHUNK = 32 * 1024;
/** A guest that stops answering fails the request after this long instead of holding the editor. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Symlinks of a folder resolved to show linked folders as folders (each costs a round trip). */
const MAX_RESOLVED_LINKS = 32;
/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02). */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/** `hangar-machine://<machine>/etc/hosts` */
export function machineFileUri(machine: MachineRef, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: MACHINE_FILES_SCHEME, authority: machineAuthority(machine.vagrantfile, machine.name), path: guestPath(file) });
}

interface Connection {
  machine: MachineRef;
  session: MachineSession;
  sftp: SFTPWrapper;
}

/**
 * A running machine's files, readable and writable over SFTP (the guest's
 * sftp-server, as the machine's SSH user, so the guest's permissions apply).
 * One SSH connection per machine, opened on first use, reused, and closed
 * when the machine stops. Every path is a guest path: nothing here touches
 * host files, whatever names, links or sizes the guest reports.
 */
export class MachineFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly machines = new Map<string, MachineRef>();
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly hangar: HangarContext) {
    // A halted, suspended or destroyed machine's connection goes (the guest may not say so before its network stops).
    this.subscription = hangar.machines.onDidChange(() => void this.closeStopped());
  }

  /** The URI of a machine's file, remembering which machine its authority names. */
  uri(machine: MachineRef, file = "/"): vscode.Uri {
    const uri = machineFileUri(machine, file);
    this.machines.set(uri.authority, { vagrantfile: machine.vagrantfile, name: machine.name });
    return uri;
  }

  /** Machines with an open SFTP connection, for tests. */
  get openConnections(): number {
    return this.connections.size;
  }

  watch(): vscode.Disposable {
    // SFTP has no change notification; editors see the guest's changes when they read again.
    return new vscode.Disposable(() => undefined);
  }

  /** As VS Code expects: a symlink's type is its target's, with the SymbolicLink flag; a dangling one is a file. */
  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    return this.use(uri, async (sftp, file) => {
      const own = await call<Stats>(uri, (cb) => sftp.lstat(file, cb));
      if (!own.isSymbolicLink()) return fileStat(own);
      const target = await call<Stats>(uri, (cb) => sftp.stat(file, cb)).catch(() => undefined);
      const s = fileStat(target ?? own);
      return { ...s, type: (target?.isDirectory() ? vscode.FileType.Directory : vscode.FileType.File) | vscode.FileType.SymbolicLink };
    });
  }

  async readDirectory(uri: vscode.Uri): Promise<Array<[string, vscode.FileType]>> {
    return this.use(uri, async (sftp, dir) => {
      const entries = await listDirectory(sftp, uri, dir);
      const types = new Map(entries.map((e) => [e.name, fileType(e.attrs)]));
      // A few links (/bin → usr/bin) are worth a round trip each to show folders as folders; hundreds (busybox's applets) are not.
      const links = entries.filter((e) => e.attrs.isSymbolicLink());
      if (links.length <= MAX_RESOLVED_LINKS)
        await Promise.all(
          links.map(async (l) => {
            const target = await call<Stats>(uri, (cb) => sftp.stat(path.join(dir, l.name), cb)).catch(() => undefined);
            if (target) types.set(l.name, vscode.FileType.SymbolicLink | (target.isDirectory() ? vscode.FileType.Directory : vscode.FileType.File));
          }),
        );
      const isDir = (name: string): boolean => ((types.get(name) ?? 0) & vscode.FileType.Directory) !== 0;
      return entries
        .map((e) => e.name)
        .sort((a, b) => (isDir(a) !== isDir(b) ? (isDir(a) ? -1 : 1) : a.localeCompare(b)))
        .map((name) => [name, types.get(name)!]);
    });
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.use(uri, async (sftp, file) => {
      const s = await call<Stats>(uri, (cb) => sftp.stat(file, cb));
      if (s.isDirectory()) throw vscode.FileSystemError.FileIsADirectory(uri);
      if (s.size > MAX_FILE_BYTES) throw tooLarge(uri, s.size);
      const handle = await call<Buffer>(uri, (cb) => sftp.open(file, "r", cb));
      try {
        // Read until EOF, but never past the limit: the size the guest stated may be a lie.
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
          const buf = Buffer.alloc(READ_CHUNK);
          const n = await call<number>(uri, (cb) => sftp.read(handle, buf, 0, READ_CHUNK, total, (err, bytes) => cb(err, bytes)));
          if (!n) break;
          total += n;
          if (total > MAX_FILE_BYTES) throw tooLarge(uri, total);
          chunks.push(buf.subarray(0, n));
        }
        return Buffer.concat(chunks, total);
      } finally {
        sftp.close(handle, () => undefined);
      }
    });
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    await this.use(uri, async (sftp, file) => {
      const existing = await call<Stats>(uri, (cb) => sftp.stat(file, cb)).catch(notFoundAsUndefined);
      if (existing?.isDirectory()) throw vscode.FileSystemError.FileIsADirectory(uri);
      if (existing && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
      if (!existing && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
      // "w" truncates an existing file in place, so its mode and owner stay.
      await call<void>(uri, (cb) => sftp.writeFile(file, Buffer.from(content), cb));
    });
    this.changed.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    await this.use(uri, async (sftp, dir) => {
      if (await call<Stats>(uri, (cb) => sftp.lstat(dir, cb)).catch(notFoundAsUndefined)) throw vscode.FileSystemError.FileExists(uri);
      await call<void>(uri, (cb) => sftp.mkdir(dir, cb));
    });
    this.changed.fire([{ type: vscode.FileChangeType.Created, uri }]);
  }

  async delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    await this.use(uri, (sftp, file) => remove(sftp, uri, file, options.recursive));
    this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    if (oldUri.authority !== newUri.authority) throw vscode.FileSystemError.NoPermissions("Files move within one machine only.");
    await this.use(oldUri, async (sftp, from) => {
      const to = guestPath(newUri.path);
      const existing = await call<Stats>(newUri, (cb) => sftp.lstat(to, cb)).catch(notFoundAsUndefined);
      if (existing && !options.overwrite) throw vscode.FileSystemError.FileExists(newUri);
      // SFTP v3's rename refuses an existing target; OpenSSH's posix-rename replaces it, as rename(2) does.
      if (existing) await call<void>(oldUri, (cb) => sftp.ext_openssh_rename(from, to, cb));
      else await call<void>(oldUri, (cb) => sftp.rename(from, to, cb));
    });
    this.changed.fire([
      { type: vscode.FileChangeType.Deleted, uri: oldUri },
      { type: vscode.FileChangeType.Created, uri: newUri },
    ]);
  }

  /** Runs `fn` with the machine's SFTP session and the URI's guest path; a lost connection is forgotten so the next use reconnects. */
  private async use<T>(uri: vscode.Uri, fn: (sftp: SFTPWrapper, file: string) => Promise<T>): Promise<T> {
    const connection = await this.connection(uri);
    return fn(connection.sftp, guestPath(uri.path));
  }

  private connection(uri: vscode.Uri): Promise<Connection> {
    const key = uri.authority;
    let c = this.connections.get(key);
    if (!c) {
      c = this.connect(uri);
      this.connections.set(key, c);
      const forget = (): void => void (this.connections.get(key) === c && this.connections.delete(key));
      c.then((x) => {
        x.session.onClose(forget);
        x.sftp.once("close", () => (forget(), x.session.close()));
      }, forget);
    }
    return c;
  }

  private async connect(uri: vscode.Uri): Promise<Connection> {
    const machine = await this.machine(uri);
    let ssh: { port: number; keyFile: string; user: string };
    try {
      ssh = await this.hangar.machines.project(machine.vagrantfile).sshTarget(machine.name);
    } catch (err) {
      throw vscode.FileSystemError.Unavailable(`Cannot browse the files of machine '${machine.name}': ${errorMessage(err)}`);
    }
    const session = await MachineSession.open(ssh.port, ssh.keyFile, ssh.user).catch((err: unknown) => {
      throw vscode.FileSystemError.Unavailable(errorMessage(err));
    });
    try {
      const sftp = await withTimeout(session.sftp(), `Machine '${machine.name}' did not start SFTP`);
      return { machine, session, sftp };
    } catch (err) {
      session.close();
      throw vscode.FileSystemError.Unavailable(errorMessage(err));
    }
  }

  /** The machine an authority names: remembered from uri(), or found among the workspace's machines (a reopened editor). */
  private async machine(uri: vscode.Uri): Promise<MachineRef> {
    const known = this.machines.get(uri.authority);
    if (known) return known;
    const found = (await this.hangar.machines.all()).find((m) => machineAuthority(m.vagrantfile, m.name) === uri.authority);
    if (!found) throw vscode.FileSystemError.Unavailable(`No Hangar machine of this workspace is '${uri.authority}'.`);
    this.machines.set(uri.authority, { vagrantfile: found.vagrantfile, name: found.name });
    return found;
  }

  /** Closes the connections of machines that no longer run. */
  private async closeStopped(): Promise<void> {
    if (!this.connections.size) return;
    const running = new Set((await this.hangar.machines.all().catch(() => [])).filter((m) => m.state === "running").map((m) => machineAuthority(m.vagrantfile, m.name)));
    for (const [key, c] of this.connections) {
      if (running.has(key)) continue;
      this.connections.delete(key);
      void c.then(
        (x) => x.session.close(),
        () => undefined,
      );
    }
  }

  dispose(): void {
    this.subscription.dispose();
    for (const c of this.connections.values())
      void c.then(
        (x) => x.session.close(),
        () => undefined,
      );
    this.connections.clear();
    this.changed.dispose();
  }
}

/** A folder's entries, read handle by handle so a guest that never ends the listing is cut off at MAX_DIRECTORY_ENTRIES. */
async function listDirectory(sftp: SFTPWrapper, uri: vscode.Uri, dir: string): Promise<Array<{ name: string; attrs: Stats }>> {
  const handle = await call<Buffer>(uri, (cb) => sftp.opendir(dir, cb));
  const seen = new Map<string, Stats>();
  try {
    for (;;) {
      const batch = await call<Array<{ filename: string; attrs: Stats }> | false>(uri, (cb) => sftp.readdir(handle, (err, list) => cb(err, list))).catch((err: unknown) => {
        if ((err as { code?: number }).code === 1) return false as const; // SSH_FX_EOF
        throw err;
      });
      if (!batch || !batch.length) break;
      // Names that could not be one entry of this folder (with `/`, `..`) are dropped, as are repeats.
      for (const e of batch) if (isEntryName(e.filename) && !seen.has(e.filename)) seen.set(e.filename, e.attrs);
      if (seen.size >= MAX_DIRECTORY_ENTRIES) break;
    }
  } finally {
    sftp.close(handle, () => undefined);
  }
  return [...seen].map(([name, attrs]) => ({ name, attrs }));
}

/** Deletes a file, link or (recursively) folder; links are removed, never followed. */
async function remove(sftp: SFTPWrapper, uri: vscode.Uri, file: string, recursive: boolean): Promise<void> {
  if (file === "/") throw vscode.FileSystemError.NoPermissions("The machine's root folder cannot be deleted.");
  const s = await call<Stats>(uri, (cb) => sftp.lstat(file, cb));
  if (!s.isDirectory()) return call<void>(uri, (cb) => sftp.unlink(file, cb));
  if (recursive) for (const e of await listDirectory(sftp, uri, file)) await remove(sftp, uri, path.join(file, e.name), true);
  await call<void>(uri, (cb) => sftp.rmdir(file, cb));
}

function fileType(s: Stats): vscode.FileType {
  if (s.isSymbolicLink()) return vscode.FileType.SymbolicLink | vscode.FileType.File;
  if (s.isDirectory()) return vscode.FileType.Directory;
  return s.isFile() ? vscode.FileType.File : vscode.FileType.Unknown;
}

function fileStat(s: Stats): vscode.FileStat {
  // SFTP v3 has no ctime; mtime is in seconds.
  const mtime = (Number(s.mtime) || 0) * 1000;
  return { type: fileType(s), ctime: mtime, mtime, size: Math.max(0, Number(s.size) || 0) };
}

function tooLarge(uri: vscode.Uri, bytes: number): vscode.FileSystemError {
  return vscode.FileSystemError.Unavailable(`${uri.path} is ${(bytes / 1048576).toFixed(0)} MiB: Hangar opens files up to ${MAX_FILE_BYTES / 1048576} MiB. Copy it with scp instead.`);
}

function notFoundAsUndefined(err: unknown): undefined {
  if (err instanceof vscode.FileSystemError && err.code === "FileNotFound") return undefined;
  throw err;
}

/** One SFTP request, with its status mapped to a FileSystemError and a deadline (a guest must not hold the editor). */
function call<T>(uri: vscode.Uri, request: (cb: (err: Error | undefined | null, value?: T) => void) => void): Promise<T> {
  return withTimeout(new Promise<T>((resolve, reject) => request((err, value) => (err ? reject(err) : resolve(value as T)))), `The machine did not answer for ${uri.path}`).catch((err: unknown) => {
    throw fileSystemError(uri, err);
  });
}

function fileSystemError(uri: vscode.Uri, err: unknown): unknown {
  if (err instanceof vscode.FileSystemError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 1) return err; // EOF: the caller's to handle
  if (code === SFTP_NO_SUCH_FILE) return vscode.FileSystemError.FileNotFound(uri);
  if (code === SFTP_PERMISSION_DENIED) return vscode.FileSystemError.NoPermissions(uri);
  return vscode.FileSystemError.Unavailable(`${uri.path}: ${errorMessage(err)}`);
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} in ${REQUEST_TIMEOUT_MS / 1000} s.`)), REQUEST_TIMEOUT_MS);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
