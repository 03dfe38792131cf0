import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import * as path from "node:path";
import * as tar from "tar-stream";
import type { RunResult } from "../../machines/machine-session";
import { shellQuote } from "../../util/shell-quote";
import { HangarError } from "../../util/errors";
import type { ImageStore } from "../images/image-store";
import { asArchiveError, safeEntryPath, tarEntries, whiteoutOf } from "../images/tar-entries";
import type { LayerStaging } from "./layer-staging";

/**
 * Unpacks an image's layers into its read-only root in the engine machine
 * (`<root>/images/<hex>/rootfs`), keeping the host's rules (layer-apply.ts):
 * symlinks, absolute or "..", resolve inside the image's root, never in the
 * engine machine — whose own folders hold the host's shares
 * (/var/lib/hangar/host/N: the user's home).
 *
 * How: every step that touches the rootfs runs chrooted into it, through a
 * copy of the engine machine's static busybox put at an unguessable path in
 * the rootfs for the time of the unpack. A symlink `a -> /var/lib/hangar/host/0`
 * followed by `a/x` (in the same or a later layer), or a whiteout through
 * such a link, then lands inside the rootfs as it would in a container.
 * (The alternative, refusing on the host any entry whose folders pass
 * through a symlink, would also refuse honest images, e.g. merged-/usr
 * ones; the chroot resolves exactly as the container will.) busybox is
 * called by its full path for every command, so no program of the image
 * ever runs, and it is static, so no library of the image is loaded.
 *
 * The host reads each layer first: entry names and hard-link targets are
 * checked as the host checks them (no "..", no whiteout naming nothing, "."
 * or ".."), whiteouts are collected, and the layer is re-packed without the
 * whiteout markers, device nodes and FIFOs (the host skips those too).
 */

export class ImageUnpackError extends HangarError {}

/** The part of the engine machine's session unpacking needs (a local shell stands in for it in tests). */
export interface UnpackShell {
  run(command: string, o?: { stdin?: Buffer | string }): Promise<RunResult>;
}

/** Where the engine machine keeps image root file systems (guest-runtime.ts passes its own ROOT). */
const DEFAULT_ROOT = "/var/lib/hangar";
/** The engine machine's busybox: static (busybox-static), so it runs inside any rootfs without the image's libraries. */
const BUSYBOX = "/bin/busybox";

export interface PreparedLayer {
  /** Paths (relative to the root) a `.wh.<name>` deletes from the layers below. */
  deleted: string[];
  /** Folders (relative; "" is the root) a `.wh..wh..opq` empties of the layers below. */
  opaque: string[];
  /** The layer without whiteout markers, devices and FIFOs, names normalised: what the guest's tar extracts. */
  tar: Buffer;
}

/** Entry types the guest extracts, as layer-apply.ts creates them; a missing type is a regular file. */
const EXTRACTED_TYPES = new Set<string | null | undefined>(["file", "contiguous-file", "directory", "symlink", "link", undefined, null]);

/** Reads a layer on the host: checks it (ImageArchiveError), collects its whiteouts and re-packs what the guest extracts. */
export async function prepareLayer(layerFile: string): Promise<PreparedLayer> {
  const label = `Layer ${path.basename(layerFile)}`;
  const deleted: string[] = [];
  const opaque: string[] = [];
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const packed = new Promise<void>((resolve, reject) => pack.once("end", resolve).once("error", reject));
  try {
    for await (const { header: h, body } of tarEntries(createReadStream(layerFile), label)) {
      const rel = safeEntryPath(h.name, label, "strip");
      const linkRel = h.type === "link" ? safeEntryPath(h.linkname ?? "", label, "strip") : undefined;
      const whiteout = whiteoutOf(rel, label);
      if (rel === "" || whiteout || !EXTRACTED_TYPES.has(h.type)) {
        body.resume();
        if (whiteout?.kind === "opaque") opaque.push(whiteout.dir);
        else if (whiteout?.kind === "delete") deleted.push(whiteout.path);
        continue;
      }
      const data: Buffer[] = [];
      for await (const c of body) data.push(c as Buffer);
      const type = h.type ?? "file";
      // A header of our own (no pax carried over: a pax path would override the checked name).
      const header: tar.Header = {
        name: type === "directory" ? `${rel}/` : rel,
        type: type === "contiguous-file" ? "file" : type,
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: h.mtime ?? new Date(0),
        linkname: linkRel ?? h.linkname ?? "",
        uname: h.uname ?? "",
        gname: h.gname ?? "",
        size: 0,
        devmajor: 0,
        devminor: 0,
      };
      const bytes = type === "file" || type === "contiguous-file" ? Buffer.concat(data) : Buffer.alloc(0);
      await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: bytes.length }, bytes, (err) => (err ? reject(err) : resolve())));
    }
  } catch (err) {
    pack.destroy();
    throw asArchiveError(err, label);
  }
  pack.finalize();
  await packed;
  return { deleted, opaque, tar: Buffer.concat(chunks) };
}

/**
 * Unpacks `imageId`'s layers in the engine machine once (a `complete` mark
 * tells later calls it is done). An image whose first layers another image
 * already has unpacked (a build's steps, an image built on a pulled one)
 * starts from a copy of that root in the guest and unpacks only its own
 * layers: copying within the guest costs a fraction of sending every layer
 * through the machine's SSH session again. Throws ImageArchiveError for a
 * hostile layer, ImageUnpackError when the guest fails.
 */
export async function unpackImage(session: UnpackShell, store: Pick<ImageStore, "layerFiles">, imageId: string, root = DEFAULT_ROOT, staging?: LayerStaging): Promise<void> {
  const hex = imageId.replace(/^sha256:/, "");
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ImageUnpackError(`${imageId} is not an image ID.`);
  const dir = `${root}/images/${hex}`;
  const layerFiles = await store.layerFiles(imageId);
  const chains = layerChains(layerFiles);
  // Unpacked roots by their chain of layers: links to the image folder that unpacked them (written once it is complete).
  const chainsDir = `${root}/chains`;
  const probe = await session.run(
    [
      `[ ! -e ${shellQuote(`${dir}/complete`)} ] || { echo complete; exit 0; }`,
      `for c in ${[...chains].reverse().join(" ")}; do [ ! -e ${chainsDir}/$c/complete ] || { echo "$c"; exit 0; }; done`,
    ].join("\n"),
  );
  const found = probe.stdout.trim();
  if (found === "complete") return;
  const base = chains.indexOf(found);
  const rootfs = `${dir}/rootfs`;
  // Unguessable, so no layer can have put a symlink (or anything) at it beforehand.
  const helperDir = `/.hangar-unpack-${randomBytes(12).toString("hex")}`;
  // Named busybox, so it takes its first argument as the applet.
  const bb = `${helperDir}/busybox`;
  const must = async (command: string, what: string, stdin?: Buffer | string): Promise<void> => {
    const res = await session.run(command, stdin === undefined ? {} : { stdin });
    if (res.code !== 0)
      throw new ImageUnpackError(
        `The engine machine could not ${what} of image ${imageId.slice(0, 19)}: ${res.stderr.trim() || `exit status ${res.code}`}`,
        "The image may be damaged; remove it and load or build it again.",
      );
  };
  const inRoot = `chroot ${shellQuote(rootfs)} ${bb}`;
  // The base root is copied as it is (cp -a copies symlinks as symlinks, never through them); the helper goes in after.
  // Its files are hard links (-l): a Debian root is ~100 MB of the machine's memory, and nothing writes an image's
  // files in place (tar -x and the whiteouts unlink a file before they replace it; containers write to an overlay).
  const start = base >= 0 ? `mkdir -p ${shellQuote(dir)} && cp -al ${chainsDir}/${found}/rootfs ${shellQuote(rootfs)}` : `mkdir -p ${shellQuote(rootfs)}`;
  await must(`rm -rf ${shellQuote(dir)} && ${start} && mkdir -p ${shellQuote(rootfs + helperDir)} && cp ${BUSYBOX} ${shellQuote(rootfs + bb)}`, "prepare the folder");
  for (const layerFile of layerFiles.slice(base + 1)) {
    const layer = await prepareLayer(layerFile);
    const name = path.basename(layerFile).slice(0, 12);
    // Docker's whiteouts: what this layer deletes from the ones below goes first, then its own files.
    if (layer.deleted.length > 0 || layer.opaque.length > 0) {
      const script = [
        `b=${bb}`,
        ...layer.opaque.map((d) => `[ ! -d ${shellQuote(`/${d}`)} ] || "$b" find ${shellQuote(`/${d}`)} -mindepth 1 -maxdepth 1 ! -path ${helperDir} -exec "$b" rm -rf -- {} +`),
        ...layer.deleted.map((p) => `"$b" rm -rf -- ${shellQuote(`/${p}`)}`),
        "",
      ].join("\n");
      // The script is data on stdin of the rootfs's own shell: no command-length limit, nothing of the image run.
      await must(`${inRoot} sh -s`, `apply the whiteouts of layer ${name}`, script);
    }
    if (!staging) {
      await must(`${inRoot} tar -x -C /`, `unpack layer ${name}`, layer.tar);
      continue;
    }
    // Through the staging share (layer-staging.ts): the outer shell opens the file, the chrooted tar reads its stdin.
    const staged = await staging.stage(layer.tar);
    try {
      await must(`${inRoot} tar -x -C / < ${shellQuote(staged.guestPath)}`, `unpack layer ${name}`);
    } finally {
      await staged.release();
    }
  }
  const link = chains.length ? ` && mkdir -p ${chainsDir} && ln -sfn ../images/${hex} ${chainsDir}/${chains[chains.length - 1]}` : "";
  await must(`rm -rf ${shellQuote(rootfs + helperDir)} && touch ${shellQuote(`${dir}/complete`)}${link}`, "finish unpacking");
}

/**
 * For each layer, an ID of the layers up to it (base first): two images with
 * the same first layers share those IDs. A layer is known by its file's name
 * (the store names blobs by digest; another HANGAR_HOME's store, whose
 * suspended engine machine this one may have resumed, names them alike).
 */
export function layerChains(layerFiles: string[]): string[] {
  const chains: string[] = [];
  for (const file of layerFiles) {
    chains.push(
      createHash("sha256")
        .update(`${chains[chains.length - 1] ?? ""}\n${path.basename(file)}`)
        .digest("hex"),
    );
  }
  return chains;
}
