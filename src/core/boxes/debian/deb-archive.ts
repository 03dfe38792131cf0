import { promises as fs } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { errorMessage, HangarError } from "../../util/errors";
import { readArArchive, type ArMember } from "./ar-archive";
import { parseDeb822 } from "./deb822";
import { compressionOf, decompressStream, type Compression } from "./decompression";

/**
 * Reads Debian binary packages (.deb, deb(5)) without dpkg, so a box builds
 * the same way on Linux, macOS and Windows: an `ar` archive holding
 * `debian-binary` ("2.0\n"), `control.tar[.gz|.xz|.zst]` and
 * `data.tar[.xz|.zst|.gz]`. Packages are read whole into memory: the largest
 * the box needs (the kernel) is tens of megabytes.
 */

export type DebEntryType = "file" | "directory" | "symlink" | "hardlink" | "char-device" | "block-device" | "fifo";

export interface DebEntry {
  /** Relative to the root the package installs into: normalised, no leading "./" or "/", no trailing "/". */
  path: string;
  type: DebEntryType;
  /** Permission bits, including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /**
   * symlink: the target exactly as packaged (relative to the link's folder,
   * or absolute meaning the guest's root — never the host's; whoever writes
   * entries to a real disk must not follow them). hardlink: the path of the
   * earlier entry it names, normalised and checked like `path`.
   */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** A file's bytes. */
  content?: Buffer;
}

export interface DebDataOptions {
  /** Which entries to read (file contents are read only for these); default all. */
  filter?(path: string, type: DebEntryType): boolean;
  /** Compressed bytes of data.tar consumed so far, and their total (the kernel's take seconds to unpack). */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

/** The package is malformed or unsafe; nothing from it should be used. */
export class DebArchiveError extends HangarError {}

export class DebArchive {
  constructor(
    /** Where it was read from, for messages. */
    readonly file: string,
    /** The fields of its `control` file, names as written (Package, Version, Depends, …). */
    readonly control: Map<string, string>,
    /** Every file of control.tar by name: control, md5sums, postinst, … */
    readonly controlFiles: Map<string, Buffer>,
    private readonly dataMember: ArMember,
    private readonly dataCompression: Compression,
  ) {}

  /**
   * The entries of data.tar, in archive order. Each is yielded after its
   * content was read; the next is not read until the consumer asks. An unsafe
   * or damaged entry throws when reached, after the ones before it were
   * yielded: a consumer that must change nothing on bad input stages what it
   * gets (as the initramfs builder does, in memory) and commits at the end.
   */
  async *entries(options: DebDataOptions = {}): AsyncGenerator<DebEntry> {
    const label = path.basename(this.file);
    yield* tarEntries(this.dataMember.data, this.dataCompression, `${label} (${this.dataMember.name})`, options);
  }

  /** Calls `onEntry` for each entry the filter keeps (all, without one). */
  async extractData(filter: DebDataOptions["filter"], onEntry: (entry: DebEntry) => void | Promise<void>, options: Omit<DebDataOptions, "filter"> = {}): Promise<void> {
    for await (const entry of this.entries({ ...options, filter })) await onEntry(entry);
  }
}

export async function readDeb(file: string, options: { signal?: AbortSignal } = {}): Promise<DebArchive> {
  options.signal?.throwIfAborted();
  const label = path.basename(file);
  const members = readArArchive(await fs.readFile(file), label);
  const version = members.find((m) => m.name === "debian-binary");
  if (!version || !version.data.toString("latin1").startsWith("2.")) {
    throw new DebArchiveError(`${label} is not a Debian package: it has no "debian-binary" member of format 2.x.`, "Delete it and download it again.");
  }
  const controlMember = member(members, "control.tar", label);
  const dataMember = member(members, "data.tar", label);

  const controlFiles = new Map<string, Buffer>();
  for await (const entry of tarEntries(controlMember.member.data, controlMember.compression, `${label} (${controlMember.member.name})`, { signal: options.signal })) {
    if (entry.type === "file" && entry.content) controlFiles.set(entry.path, entry.content);
  }
  const controlText = controlFiles.get("control");
  const paragraph = controlText && parseDeb822(controlText.toString("utf8"))[0];
  if (!paragraph?.get("Package")) throw new DebArchiveError(`${label} has no valid control file (no Package field).`, "Delete it and download it again.");
  return new DebArchive(file, new Map(paragraph.fields), controlFiles, dataMember.member, dataMember.compression);
}

function member(members: ArMember[], base: string, label: string): { member: ArMember; compression: Compression } {
  const found = members.find((m) => m.name === base || m.name.startsWith(`${base}.`));
  if (!found) throw new DebArchiveError(`${label} is not a Debian package: it has no ${base} member.`, "Delete it and download it again.");
  const compression = compressionOf(found.name);
  if (!compression || (compression === "none" && found.name !== base)) {
    throw new DebArchiveError(`${label} stores ${found.name}, a compression Hangar cannot read.`, "Hangar reads .deb members compressed with xz, zstd or gzip, or not at all.");
  }
  return { member: found, compression };
}

const TYPES: Record<tar.Header["type"], DebEntryType> = {
  file: "file",
  "contiguous-file": "file",
  directory: "directory",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char-device",
  "block-device": "block-device",
  fifo: "fifo",
};

async function* tarEntries(compressed: Buffer, compression: Compression, label: string, options: DebDataOptions): AsyncGenerator<DebEntry> {
  const extract = tar.extract();
  const source = decompressStream(Readable.from(slices(compressed, options.onProgress)), compression);
  source.on("error", (err) =>
    extract.destroy(new DebArchiveError(`${label} could not be decompressed (${compression}): ${errorMessage(err)}.`, "The package is damaged: delete it and download it again.")),
  );
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      options.signal?.throwIfAborted();
      const h = entry.header;
      const type = TYPES[h.type] as DebEntryType | undefined; // undefined for types tar-stream's typing does not list
      if (!type) throw new DebArchiveError(`${label} holds ${h.name}, an entry of type ${h.type ?? "unknown"} that a package cannot contain.`, "The package is damaged or not a Debian package.");
      const entryPath = safePath(h.name, label);
      if (entryPath === "" || (options.filter && !options.filter(entryPath, type))) {
        entry.resume(); // the package root "./" itself, or an entry not asked for
        continue;
      }
      const result: DebEntry = {
        path: entryPath,
        type,
        mode: (h.mode ?? 0) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0,
      };
      if (type === "symlink") result.linkname = h.linkname ?? "";
      if (type === "hardlink") result.linkname = safePath(h.linkname ?? "", label);
      if (type === "char-device" || type === "block-device") {
        result.devmajor = h.devmajor ?? 0;
        result.devminor = h.devminor ?? 0;
      }
      if (type === "file") {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        result.content = Buffer.concat(chunks);
      } else {
        entry.resume();
      }
      yield result;
    }
  } catch (err) {
    if (err instanceof HangarError || options.signal?.aborted) throw err;
    throw new DebArchiveError(`${label} could not be read: ${errorMessage(err)}.`, "The package is damaged: delete it and download it again.");
  } finally {
    source.unpipe(extract);
    source.destroy();
    extract.destroy();
  }
}

/** The member in 1 MiB pieces, reporting each as the decompressor asks for the next. */
function* slices(data: Buffer, onProgress: DebDataOptions["onProgress"]): Generator<Buffer> {
  const size = 1 << 20;
  for (let at = 0; at < data.length; at += size) {
    yield data.subarray(at, at + size);
    onProgress?.(Math.min(at + size, data.length), data.length);
  }
}

/**
 * A tar member name as a path relative to the install root. Leading "./" and
 * "/" are dropped (every path in a package is relative to /); a path that
 * climbs out of the root with ".." is refused, so no entry can land outside
 * the tree it is unpacked into.
 */
function safePath(name: string, label: string): string {
  const stripped = name.replace(/^(\.?\/)+/, "");
  if (stripped === "" || stripped === ".") return "";
  const normal = path.posix.normalize(stripped).replace(/\/+$/, "");
  if (normal === ".." || normal.startsWith("../")) {
    throw new DebArchiveError(
      `${label} holds an entry whose path escapes the install root: "${name}". Refusing to read it further.`,
      "The package is damaged or hostile: delete it and get it from a trusted mirror.",
    );
  }
  return normal === "." ? "" : normal;
}
