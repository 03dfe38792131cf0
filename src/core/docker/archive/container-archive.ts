import type { Readable } from "node:stream";
import * as tar from "tar-stream";

/** What the archive API's X-Docker-Container-Path-Stat header says about a path. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits: permissions plus type flags. */
  mode: number;
  mtime: Date;
  /** The absolute path a symlink resolves to, or "". */
  linkTarget: string;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  try {
    const raw = JSON.parse(Buffer.from(value, "base64").toString("utf8")) as { name?: unknown; size?: unknown; mode?: unknown; mtime?: unknown; linkTarget?: unknown };
    return {
      name: String(raw.name ?? ""),
      size: Number(raw.size ?? 0),
      mode: Number(raw.mode ?? 0),
      mtime: new Date(raw.mtime == null ? 0 : String(raw.mtime)),
      linkTarget: String(raw.linkTarget ?? ""),
    };
  } catch {
    return undefined;
  }
}

export const isDirectoryMode = (mode: number): boolean => Math.floor(mode / MODE_DIR) % 2 === 1;
export const isSymlinkMode = (mode: number): boolean => Math.floor(mode / MODE_SYMLINK) % 2 === 1;

export type EntryKind = "file" | "directory" | "symlink" | "other";

export interface ArchiveChild {
  name: string;
  kind: EntryKind;
  size: number;
  mtime: Date;
}

/**
 * The direct children of `folder` from its archive GET: entries are
 * "<basename>/…" recursively, or for the root "./…" or bare names (engines
 * differ). File bodies are skipped, not buffered.
 */
export function listArchiveChildren(archive: Readable, folder: string): Promise<ArchiveChild[]> {
  const base = folder.split("/").filter(Boolean).pop();
  return new Promise((resolve, reject) => {
    const children = new Map<string, ArchiveChild>();
    const extract = tar.extract();
    extract.on("entry", (header, body, next) => {
      body.once("error", reject); // a failing extract destroys the entry stream with the same error
      const parts = header.name.split("/").filter((p) => p && p !== ".");
      const below = base === undefined ? parts : parts[0] === base ? parts.slice(1) : [];
      const name = below[0];
      if (name !== undefined && !children.has(name)) {
        // A folder seen only through its contents (no entry of its own) is still a folder.
        children.set(
          name,
          below.length === 1 ? { name, kind: kindOf(header.type), size: header.size ?? 0, mtime: header.mtime ?? new Date(0) } : { name, kind: "directory", size: 0, mtime: new Date(0) },
        );
      }
      body.on("end", () => next());
      body.resume();
    });
    extract.once("finish", () => resolve([...children.values()]));
    extract.once("error", reject);
    archive.once("error", reject);
    archive.pipe(extract);
  });
}

/** The body of the archive's first regular file (the file an archive GET of a file path returns). */
export function readArchiveFile(archive: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let found: Buffer | undefined;
    const extract = tar.extract();
    extract.on("entry", (header, body, next) => {
      body.once("error", reject); // a failing extract destroys the entry stream with the same error
      if (found || header.type !== "file") {
        body.on("end", () => next());
        body.resume();
        return;
      }
      if ((header.size ?? 0) > maxBytes) {
        extract.destroy(new Error(`${header.name} is ${header.size} bytes, more than the ${maxBytes} an editor opens here.`));
        return;
      }
      const chunks: Buffer[] = [];
      body.on("data", (c: unknown) => chunks.push(c as Buffer));
      body.on("end", () => {
        found = Buffer.concat(chunks);
        next();
      });
    });
    extract.once("finish", () => (found ? resolve(found) : reject(new Error("The archive holds no regular file."))));
    extract.once("error", reject);
    archive.once("error", reject);
    archive.pipe(extract);
  });
}

function kindOf(type: tar.Header["type"]): EntryKind {
  return type === "file" || type === "contiguous-file" ? "file" : type === "directory" ? "directory" : type === "symlink" ? "symlink" : "other";
}
