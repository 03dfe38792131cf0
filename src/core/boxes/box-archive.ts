import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { sparseWriteStream } from "../util/sparse-file";
import * as tar from "tar-stream";
import { CancelledError, HangarError } from "../util/errors";
import { boxNameToDir } from "./box-store";

export class BoxAddError extends HangarError {}

/**
 * `box add`: a `.box` file (tar.gz with metadata.json at its root, Vagrant's
 * format) or a folder with metadata.json, copied into the store as
 * <name>/<version>/<provider>. Unpacked into a temporary folder first and
 * renamed into place only when whole, so a corrupt or truncated box adds
 * nothing.
 */
/**
 * Adds a box from a .box file or a folder. `signal` cancels up to the moment
 * the box is moved into place: what was unpacked is removed and nothing is
 * added (a CancelledError says so).
 */
export async function addBox(hangarHome: string, source: string, name: string, version = "0", force = false, signal?: AbortSignal): Promise<string> {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(name)) throw new BoxAddError(`'${name}' is not a box name (use letters, digits, '.', '_', '-', and one '/').`);
  const boxesRoot = path.join(hangarHome, "boxes");
  const tmp = path.join(boxesRoot, `.tmp-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    const st = await fs.stat(source).catch(() => undefined);
    if (!st) throw new BoxAddError(`${source} does not exist.`);
    const cancelled = (): CancelledError => new CancelledError(`Adding box ${name} was cancelled; nothing was added.`);
    if (signal?.aborted) throw cancelled();
    if (st.isDirectory()) await fs.cp(source, tmp, { recursive: true });
    else await unpackBox(source, tmp, signal).catch((err: unknown) => Promise.reject(signal?.aborted ? cancelled() : err));
    if (signal?.aborted) throw cancelled();
    let meta: { provider?: unknown };
    try {
      meta = JSON.parse(await fs.readFile(path.join(tmp, "metadata.json"), "utf8")) as { provider?: unknown };
    } catch {
      throw new BoxAddError(`${source} has no valid metadata.json at its root: it is not a box.`);
    }
    const provider = typeof meta.provider === "string" && /^[\w-]+$/.test(meta.provider) ? meta.provider : undefined;
    if (!provider) throw new BoxAddError(`${source}'s metadata.json names no provider.`);
    const dest = path.join(boxesRoot, boxNameToDir(name), version, provider);
    if (await fs.stat(dest).catch(() => undefined)) {
      if (!force) throw new BoxAddError(`The box ${name} ${version} (${provider}) is already installed.`, "Remove it first, or add with --force to replace it.");
      await fs.rm(dest, { recursive: true, force: true });
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    // The last point where cancelling leaves nothing behind.
    if (signal?.aborted) throw cancelled();
    await fs.rename(tmp, dest);
    return dest;
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function unpackBox(file: string, dest: string, signal?: AbortSignal): Promise<void> {
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    // A cancel destroys the entry, maybe before its file is open (the folder is made first): the unpacking's own
    // pipeline reports that, so the entry's error must not go uncaught meanwhile.
    stream.on("error", () => undefined);
    const name = path.posix.normalize(header.name).replace(/^\.\//, "");
    if (name.startsWith("../") || name.startsWith("/") || name === "..") {
      stream.resume();
      extract.destroy(new BoxAddError(`${file} contains an unsafe path (${header.name}); refusing it.`));
      return;
    }
    const target = path.join(dest, name);
    if (header.type === "directory") {
      fs.mkdir(target, { recursive: true }).then(
        () => stream.resume().on("end", next),
        (e: Error) => extract.destroy(e),
      );
    } else if (header.type === "file") {
      fs.mkdir(path.dirname(target), { recursive: true })
        // Sparse: a disk image's zeros stay holes (hangar/debian-bookworm's 8 GiB disk.img holds ~210 MB).
        .then(() => pipeline(stream, sparseWriteStream(target, header.mode ?? 0o644)))
        .then(
          () => next(),
          (e: Error) => extract.destroy(e),
        );
    } else {
      stream.resume().on("end", next); // links and devices have no place in a box
    }
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), extract, { signal: signal ?? new AbortController().signal });
  } catch (err) {
    if (err instanceof HangarError) throw err;
    throw new BoxAddError(`${file} is not a readable .box (a gzip-compressed tar): ${(err as Error).message}. It may be truncated or corrupt; nothing was added.`);
  }
}

/** Writes `files` (names relative to `dir`) as a .box: tar.gz with metadata.json first. */
export async function writeBoxFile(dir: string, files: string[], out: string, signal?: AbortSignal): Promise<void> {
  const pack = tar.pack();
  // Written beside its place, fsynced, then renamed: a crash or a cancel never leaves a half box at `out`.
  const tmp = `${out}.${randomBytes(4).toString("hex")}.tmp`;
  const done = pipeline(pack, createGzip(), createWriteStream(tmp), signal ? { signal } : {});
  const aborted = new Promise<never>((_, reject) =>
    signal?.addEventListener("abort", () => reject(new CancelledError(`Writing ${path.basename(out)} was cancelled; nothing was written.`)), { once: true }),
  );
  aborted.catch(() => undefined);
  try {
    const ordered = [...files].sort((a, b) => (a === "metadata.json" ? -1 : b === "metadata.json" ? 1 : a.localeCompare(b)));
    for (const f of ordered) {
      if (signal?.aborted) await aborted;
      const st = await fs.stat(path.join(dir, f));
      const entryDone = new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: f, size: st.size, mode: st.mode & 0o7777, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
        const source = createReadStream(path.join(dir, f)).on("error", reject);
        // A cancel destroys the pack under the entry: both ends must have a listener, or the error is uncaught.
        entry.on("error", (err: Error) => {
          source.destroy();
          reject(err);
        });
        source.pipe(entry);
      });
      entryDone.catch(() => undefined);
      await (signal ? Promise.race([entryDone, aborted]) : entryDone);
    }
    pack.finalize();
    await (signal ? Promise.race([done, aborted]) : done);
    const written = await fs.open(tmp, "r+");
    try {
      await written.sync();
    } finally {
      await written.close();
    }
    await fs.rename(tmp, out);
  } catch (err) {
    pack.destroy();
    await done.catch(() => undefined);
    await fs.rm(tmp, { force: true });
    if (signal?.aborted) await aborted;
    throw err;
  }
}
