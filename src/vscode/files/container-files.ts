import * as path from "node:path/posix";
import type { Readable } from "node:stream";
import * as vscode from "vscode";
import { decodePathStat, isDirectoryMode, isSymlinkMode, listArchiveChildren, readArchiveFile, type PathStat } from "../../core/docker/archive/container-archive";
import type { DockerService } from "../docker/docker-service";

export const CONTAINER_FILES_SCHEME = "hangar-container";
/** Editors open files up to this size; bigger ones are refused with a message instead of being buffered. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const MAX_RESOLVED_LINKS = 16;

/** `hangar-container://<container id>/etc/hosts` */
export function containerFileUri(containerId: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CONTAINER_FILES_SCHEME, authority: containerId.toLowerCase(), path: file.startsWith("/") ? file : `/${file}` });
}

/**
 * A container's files, read-only, over the Docker archive API (HEAD for
 * stat, GET for folders and files), so it works on stopped containers and
 * on any endpoint. Listing a folder reads its archive; file bodies under
 * it are skipped, not kept.
 */
export class ContainerFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly docker: DockerService) {}

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  /** As VS Code expects: a symlink's type is its target's, with the SymbolicLink flag. */
  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { stat, link } = await this.resolve(uri);
    const type = isDirectoryMode(stat.mode) ? vscode.FileType.Directory : vscode.FileType.File;
    return { type: link ? type | vscode.FileType.SymbolicLink : type, ctime: stat.mtime.getTime(), mtime: stat.mtime.getTime(), size: stat.size, permissions: vscode.FilePermission.Readonly };
  }

  async readDirectory(uri: vscode.Uri): Promise<Array<[string, vscode.FileType]>> {
    // A link to a folder (a merged-/usr root's /bin) is listed through its target: the archive of a link is the link.
    const { target } = await this.resolve(uri);
    const children = await this.archive(target, (a) => listArchiveChildren(a, target.path));
    const kinds = { file: vscode.FileType.File, directory: vscode.FileType.Directory, symlink: vscode.FileType.SymbolicLink | vscode.FileType.File, other: vscode.FileType.Unknown };
    const types = new Map(children.map((c) => [c.name, kinds[c.kind]]));
    // A few links (a merged-/usr root's /bin, /lib…) are worth two HEADs each to show folders as folders; a folder of hundreds of them (busybox's /bin) is not.
    const links = children.filter((c) => c.kind === "symlink");
    if (links.length <= MAX_RESOLVED_LINKS) {
      await Promise.all(
        links.map(async (l) => {
          const target = await this.stat(uri.with({ path: path.join(uri.path, l.name) })).catch(() => undefined);
          if (target) types.set(l.name, vscode.FileType.SymbolicLink | (target.type & vscode.FileType.Directory ? vscode.FileType.Directory : vscode.FileType.File));
        }),
      );
    }
    const isDir = (name: string): boolean => ((types.get(name) ?? 0) & vscode.FileType.Directory) !== 0;
    return children.sort((a, b) => (isDir(a.name) !== isDir(b.name) ? (isDir(a.name) ? -1 : 1) : a.name.localeCompare(b.name))).map((c) => [c.name, types.get(c.name)!]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    // A symlink's archive is the link itself: read what it points to.
    const { target, stat } = await this.resolve(uri);
    if (isDirectoryMode(stat.mode)) throw vscode.FileSystemError.FileIsADirectory(uri);
    return this.archive(target, (a) => readArchiveFile(a, MAX_FILE_BYTES));
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  /** The path's stat, following one symlink (the engine's linkTarget is already fully resolved). */
  private async resolve(uri: vscode.Uri): Promise<{ target: vscode.Uri; stat: PathStat; link: boolean }> {
    const own = await this.pathStat(uri);
    if (!isSymlinkMode(own.mode) || !own.linkTarget) return { target: uri, stat: own, link: false };
    const target = uri.with({ path: path.resolve(path.dirname(uri.path), own.linkTarget) });
    const stat = await this.pathStat(target).catch(() => undefined);
    // A dangling link reads as the (empty) link itself.
    return stat ? { target, stat, link: true } : { target: uri, stat: own, link: true };
  }

  private async pathStat(uri: vscode.Uri): Promise<PathStat> {
    const res = await this.request(uri, (c) => c.infoArchive({ path: uri.path }) as Promise<{ headers: Record<string, string | string[] | undefined>; resume(): void }>);
    res.resume();
    const stat = decodePathStat(res.headers["x-docker-container-path-stat"]);
    if (!stat) throw vscode.FileSystemError.Unavailable(`The engine gave no file information for ${uri.path}.`);
    return stat;
  }

  private async archive<T>(uri: vscode.Uri, read: (archive: Readable) => Promise<T>): Promise<T> {
    const archive = await this.request(uri, (c) => c.getArchive({ path: uri.path }) as Promise<Readable>);
    return read(archive);
  }

  private async request<T>(uri: vscode.Uri, fn: (container: import("dockerode").Container) => Promise<T>): Promise<T> {
    try {
      return await this.docker.use(`Reading ${uri.path} in container ${uri.authority.slice(0, 12)}`, (d) => fn(d.getContainer(uri.authority)));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/\b404\b|no such (file|container)|not found/i.test(message)) throw vscode.FileSystemError.FileNotFound(uri);
      throw vscode.FileSystemError.Unavailable(message);
    }
  }
}
