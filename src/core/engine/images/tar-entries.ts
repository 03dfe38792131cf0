import * as path from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { errorMessage, HangarError } from "../../util/errors";
import { ImageArchiveError } from "./image-errors";

/**
 * Reading tars safely: entry names checked before anything uses them, stream
 * errors turned into ImageArchiveError, and the end-of-archive marker
 * required where a cut-short download must not pass for a whole one.
 */

/**
 * A tar member name as a path relative to the root it belongs to: "./" and
 * trailing "/" dropped, "a/./b" and "a/x/../b" normalised. "" is the root
 * itself. Leading "/" is stripped when `absolute` is "strip" (layer tars:
 * Docker reads "/etc/x" as "etc/x") and refused when "refuse" (image
 * archives, which Docker never writes so). A path that climbs out of the
 * root with ".." is always refused.
 */
export function safeEntryPath(name: string, label: string, absolute: "strip" | "refuse"): string {
  if (name.includes("\0")) throw unsafe(name, label, "it contains a NUL byte");
  // On Windows "\" separates folders, so "..\x" would climb out there.
  if (path.sep === "\\" && name.includes("\\")) throw unsafe(name, label, 'it contains "\\", which this host reads as a folder separator');
  let rel = name;
  if (rel.startsWith("/")) {
    if (absolute === "refuse") throw unsafe(name, label, "it is an absolute path");
    rel = rel.replace(/^\/+/, "");
  }
  if (rel === "" || rel === ".") return "";
  const normal = path.posix.normalize(rel).replace(/\/+$/, "");
  if (normal === ".." || normal.startsWith("../")) throw unsafe(name, label, 'it climbs out of the archive\'s root with ".."');
  return normal === "." ? "" : normal;
}

/**
 * How many symlinks one path may pass through before resolving it gives up
 * with ELOOP's "too many levels of symbolic links": Linux's MAXSYMLINKS, so
 * the host resolves no path the container's kernel (or the guest's unpacking
 * tar) would refuse.
 */
export const MAX_SYMLINK_HOPS = 40;

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";

/**
 * What a layer entry is in Docker's whiteout format: `dir/.wh.name` deletes
 * `dir/name` from the layers below ("delete", `path` is "dir/name"),
 * `dir/.wh..wh..opq` hides everything below in `dir` ("opaque"), other
 * `.wh..wh.*` names are aufs bookkeeping ("meta", skipped).
 */
export type Whiteout = { kind: "delete"; path: string } | { kind: "opaque"; dir: string } | { kind: "meta" };

/**
 * The whiteout `rel` (a safeEntryPath result) is, or undefined for an
 * ordinary entry. A whiteout naming nothing, "." or ".." (`.wh.`, `.wh..`,
 * `.wh...`) would delete the folder itself or the one above it: it is
 * refused (ImageArchiveError), never skipped, since no honest layer writer
 * makes one.
 */
export function whiteoutOf(rel: string, label: string): Whiteout | undefined {
  const base = path.posix.basename(rel);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = path.posix.dirname(rel) === "." ? "" : path.posix.dirname(rel);
  if (base === OPAQUE_WHITEOUT) return { kind: "opaque", dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: "meta" };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === "" || name === "." || name === "..") {
    throw unsafe(rel, label, `it is a whiteout naming ${name === "" ? "nothing" : `"${name}"`}, which would delete ${name === ".." ? "the folder above its own" : "its own folder"}`);
  }
  return { kind: "delete", path: dir === "" ? name : `${dir}/${name}` };
}

function unsafe(name: string, label: string, why: string): ImageArchiveError {
  return new ImageArchiveError(`${label} holds an entry named "${name}", which is unsafe: ${why}. Nothing was changed.`, "The archive is damaged or hostile; do not use it.");
}

/** One member of a tar being read: its header, and a stream of its bytes (consume or resume it before asking for the next). */
export interface TarEntry {
  header: tar.Header;
  body: Readable;
}

export interface TarReadOptions {
  /** Refuse an archive that ends without the two zero blocks every tar writer puts last (a cut at a member boundary otherwise reads as complete). */
  requireEndMarker?: boolean;
  signal?: AbortSignal;
}

/**
 * The entries of a tar stream, each to be consumed (or resumed) before the
 * next is asked for. Damaged input throws ImageArchiveError naming `label`.
 */
export async function* tarEntries(source: NodeJS.ReadableStream, label: string, options: TarReadOptions = {}): AsyncGenerator<TarEntry> {
  const extract = tar.extract();
  const tail = new TailKeeper(1024);
  const feeding = options.requireEndMarker ? pipeline(source, tail, extract) : pipeline(source, extract);
  feeding.catch(() => undefined); // its error also reaches the loop below; awaited again at the end
  let finished = false;
  try {
    for await (const entry of extract) {
      options.signal?.throwIfAborted();
      // tar-stream's entry is a streamx stream; when the archive ends early
      // it is destroyed, possibly before the consumer pipes it, and Node's
      // pipeline then waits forever for a 'close' it missed. Readable.from
      // reads it through its async iterator, which reports that as an error.
      yield { header: entry.header, body: Readable.from(entry, { objectMode: false }) };
    }
    await feeding;
    finished = true;
  } catch (err) {
    throw asArchiveError(err, label, options.signal);
  } finally {
    if (!finished) {
      extract.destroy();
      (source as { destroy?: () => void }).destroy?.();
    }
  }
  if (options.requireEndMarker && !tail.allZero()) {
    throw new ImageArchiveError(`${label} ends without the tar end-of-archive marker: it is truncated.`, "Nothing was added; save or download the archive again.");
  }
}

/**
 * An error met while reading a tar (the parser's, or a member body's as a
 * consumer pipes it) as ImageArchiveError; errors of the host (a full disk:
 * they carry a syscall), aborts and Hangar's own errors pass unchanged.
 */
export function asArchiveError(err: unknown, label: string, signal?: AbortSignal): unknown {
  if (err instanceof HangarError || signal?.aborted || (err as NodeJS.ErrnoException)?.syscall) return err;
  return new ImageArchiveError(`${label} could not be read as a tar archive: ${errorMessage(err)}.`, "It may be truncated or damaged; nothing was added.");
}

/** Passes bytes through, remembering the last `size` of them. */
class TailKeeper extends Transform {
  private tail: Buffer = Buffer.alloc(0);
  constructor(private readonly size: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length >= this.size) this.tail = chunk.subarray(chunk.length - this.size);
    else {
      const joined = Buffer.concat([this.tail, chunk]);
      this.tail = joined.subarray(Math.max(0, joined.length - this.size));
    }
    callback(null, chunk);
  }
  allZero(): boolean {
    return this.tail.length === this.size && this.tail.every((b) => b === 0);
  }
}
