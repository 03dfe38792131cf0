import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { errorMessage } from "../../util/errors";
import { decompressStream, type Compression } from "../../boxes/debian/decompression";
import type { BlobStore, StagedFile } from "./blob-store";
import { DIGEST_PATTERN, isObject, MEDIA_TYPE, parseImageConfig, type Descriptor, type ImageConfigFile } from "./image-config";
import { ImageArchiveError, InvalidReferenceError } from "./image-errors";
import { familiarString, parseReference, withDefaultTag } from "./image-reference";
import { checkLayerTar } from "./layer-apply";
import { asArchiveError, safeEntryPath, tarEntries } from "./tar-entries";

/**
 * Reads a `docker load` archive into a staging folder and checks all of it
 * before the store takes anything: every name, every digest, every layer.
 * Two formats, as Docker 25+ reads them:
 *
 *  - Docker's (`docker save`): manifest.json lists, per image, its config
 *    file, its layer files in order and its RepoTags. Layers may be plain
 *    tars (what Docker writes) or gzip/zstd/xz-compressed.
 *  - OCI image layout (oci-layout, index.json, blobs/sha256/…): index.json's
 *    descriptors name manifests (or indexes of them, one per platform); tags
 *    come from the `io.containerd.image.name` annotation (a full reference)
 *    or `org.opencontainers.image.ref.name` when that is a full reference
 *    too (a bare tag such as "latest" names no repository, so is ignored).
 *
 * manifest.json wins when both are present (archives from Docker 25+ carry
 * both). Checks: entry names (no absolute paths, no ".."), links inside the
 * archive, every blobs/sha256/<hex> file hashes to <hex>, descriptor sizes,
 * each layer's uncompressed sha256 equals the config's diff_id, each layer's
 * own entry names, JSON well-formed and of the right shape, and the tar's
 * end-of-archive marker (a cut-short archive is refused).
 */

/** An image ready for the store: its config bytes and uncompressed layers. */
export interface LoadedImage {
  configDigest: string;
  configBytes: Buffer;
  config: ImageConfigFile;
  /** In order, base first; `staged` undefined when the store already has the blob. */
  layers: Array<{ digest: string; size: number; staged?: StagedFile }>;
  /** Familiar "name:tag" strings. */
  tags: string[];
}

type ArchiveEntry = { kind: "file"; file: StagedFile } | { kind: "symlink"; target: string } | { kind: "hardlink"; target: string } | { kind: "directory" };

const MAX_JSON_BYTES = 16 << 20;
const MAX_ENTRIES = 100_000;
const LABEL = "The image archive";

export async function readImageArchive(archive: NodeJS.ReadableStream, staging: string, blobs: BlobStore, signal?: AbortSignal): Promise<LoadedImage[]> {
  const reader = new ArchiveReader(staging, blobs, signal);
  await reader.extract(archive);
  reader.verifyBlobNames();
  if (reader.entries.has("manifest.json")) return reader.dockerImages();
  if (reader.entries.has("index.json")) return reader.ociImages();
  throw new ImageArchiveError(
    `${LABEL} has neither manifest.json (docker save) nor index.json (OCI image layout) at its root${reader.entries.size === 0 ? "; it is empty" : ""}.`,
    "Pass a tar written by `docker save` or an OCI image layout archive.",
  );
}

class ArchiveReader {
  readonly entries = new Map<string, ArchiveEntry>();
  /** Uncompressed layer for each archive file already read, so a layer shared by images is read once. */
  private readonly layers = new Map<string, { digest: string; size: number; staged?: StagedFile }>();

  constructor(
    private readonly staging: string,
    private readonly blobs: BlobStore,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async extract(archive: NodeJS.ReadableStream): Promise<void> {
    try {
      await this.extractEntries(archive);
    } catch (err) {
      throw asArchiveError(err, LABEL, this.signal);
    }
  }

  private async extractEntries(archive: NodeJS.ReadableStream): Promise<void> {
    for await (const entry of tarEntries(archive, LABEL, { requireEndMarker: true, signal: this.signal })) {
      const h = entry.header;
      const name = safeEntryPath(h.name, LABEL, "refuse");
      if (this.entries.size >= MAX_ENTRIES) throw new ImageArchiveError(`${LABEL} has more than ${MAX_ENTRIES} entries; no image archive needs so many.`, "The archive is damaged or hostile.");
      if (name === "") {
        entry.body.resume();
        continue;
      }
      switch (h.type) {
        case "file":
        case "contiguous-file":
        case undefined:
        case null:
          this.entries.set(name, { kind: "file", file: await this.blobs.stage(entry.body, this.staging) });
          break;
        case "directory":
          entry.body.resume();
          this.entries.set(name, { kind: "directory" });
          break;
        case "symlink":
          entry.body.resume();
          this.entries.set(name, { kind: "symlink", target: h.linkname ?? "" });
          break;
        case "link":
          entry.body.resume();
          this.entries.set(name, { kind: "hardlink", target: safeEntryPath(h.linkname ?? "", LABEL, "refuse") });
          break;
        default:
          entry.body.resume();
          throw new ImageArchiveError(`${LABEL} holds "${h.name}", a ${h.type} entry; image archives hold only files, folders and links.`, "The archive is damaged or hostile; nothing was added.");
      }
    }
  }

  /** Every file stored as blobs/sha256/<hex> must hash to <hex>: the name is the promise. */
  verifyBlobNames(): void {
    for (const [name, entry] of this.entries) {
      const m = /^blobs\/sha256\/([^/]+)$/.exec(name);
      if (!m || entry.kind !== "file") continue;
      if (!/^[0-9a-f]{64}$/.test(m[1])) throw new ImageArchiveError(`${LABEL} holds ${name}, whose name is not a sha256 digest.`, "The archive is damaged.");
      if (entry.file.digest !== `sha256:${m[1]}`) throw mismatch(name, `sha256:${m[1]}`, entry.file.digest);
    }
  }

  async dockerImages(): Promise<LoadedImage[]> {
    const manifest = await this.readJson("manifest.json");
    if (!Array.isArray(manifest)) throw badJson("manifest.json", "it is not a list of images");
    const images: LoadedImage[] = [];
    for (const [i, item] of manifest.entries()) {
      const where = `manifest.json's entry ${i + 1}`;
      if (!isObject(item) || typeof item.Config !== "string" || !Array.isArray(item.Layers) || !item.Layers.every((l) => typeof l === "string")) {
        throw badJson("manifest.json", `${where} lacks a Config string and a Layers list of strings`);
      }
      if (item.RepoTags !== undefined && item.RepoTags !== null && (!Array.isArray(item.RepoTags) || !item.RepoTags.every((t) => typeof t === "string"))) {
        throw badJson("manifest.json", `${where} has RepoTags that are not a list of strings`);
      }
      const configName = safeEntryPath(item.Config, LABEL, "refuse");
      const configFile = this.file(configName, where);
      // Docker before 25 named configs <hex>.json; that name is a digest too.
      const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(configName);
      if (named && configFile.digest !== `sha256:${named[1]}`) throw mismatch(configName, `sha256:${named[1]}`, configFile.digest);
      const configBytes = await this.readBytes(configFile, configName);
      const config = parseImageConfig(configBytes, `${LABEL}'s ${configName}`);
      const diffIds = config.rootfs.diff_ids;
      const layerNames = item.Layers as string[];
      if (layerNames.length !== diffIds.length) {
        throw new ImageArchiveError(`${LABEL}'s ${where} lists ${layerNames.length} layers, but its config ${configName} has ${diffIds.length}.`, "The archive is damaged.");
      }
      const layers = [];
      for (const [n, layerName] of layerNames.entries()) {
        const safe = safeEntryPath(layerName, LABEL, "refuse");
        layers.push(await this.layer(this.file(safe, where), safe, diffIds[n]));
      }
      const tags = ((item.RepoTags ?? []) as string[]).map((t) => tagOf(t, where));
      images.push({ configDigest: configFile.digest, configBytes, config, layers, tags });
    }
    return images;
  }

  async ociImages(): Promise<LoadedImage[]> {
    if (this.entries.has("oci-layout")) {
      const layout = await this.readJson("oci-layout");
      if (!isObject(layout) || typeof layout.imageLayoutVersion !== "string") throw badJson("oci-layout", "it has no imageLayoutVersion");
    }
    const index = await this.readJson("index.json");
    const manifests = descriptorsOf(index, "index.json");
    const byConfig = new Map<string, LoadedImage>();
    for (const [i, desc] of manifests.entries()) {
      const where = `index.json's manifest ${i + 1}`;
      const image = await this.ociImage(desc, where, 0);
      const tag = annotatedTag(desc, where);
      const known = byConfig.get(image.configDigest);
      const target = known ?? image;
      if (!known) byConfig.set(image.configDigest, image);
      if (tag && !target.tags.includes(tag)) target.tags.push(tag);
    }
    return [...byConfig.values()];
  }

  /** A manifest descriptor, or an index of them (multi-platform): the linux/386 one, else the only one, else the first present. */
  private async ociImage(desc: Descriptor, where: string, depth: number): Promise<LoadedImage> {
    if (depth > 4) throw new ImageArchiveError(`${LABEL}'s ${where} nests image indexes more than 4 deep.`, "The archive is damaged or hostile.");
    const value = await this.readJson(this.blobName(desc, where), desc);
    if (desc.mediaType === MEDIA_TYPE.ociIndex || desc.mediaType === MEDIA_TYPE.dockerManifestList || (isObject(value) && Array.isArray(value.manifests))) {
      const children = descriptorsOf(value, `${where}'s index ${desc.digest}`);
      const present = children.filter((c) => DIGEST_PATTERN.test(c.digest) && this.entries.has(`blobs/sha256/${c.digest.slice(7)}`));
      const pick = present.find((c) => c.platform?.os === "linux" && c.platform.architecture === "386") ?? (children.length === 1 ? children[0] : present.find((c) => !isAttestation(c)));
      if (!pick) throw new ImageArchiveError(`${LABEL}'s ${where} is an index whose image manifests are not in the archive.`, "Save the image again with its blobs.");
      return this.ociImage(pick, `${where} (${pick.platform ? `${pick.platform.os}/${pick.platform.architecture}` : pick.digest})`, depth + 1);
    }
    if (!isObject(value) || !isObject(value.config) || !Array.isArray(value.layers)) throw badJson(this.blobName(desc, where), "it is not an image manifest (no config and layers)");
    const configDesc = checkDescriptor(value.config, `${where}'s config`);
    const layerDescs = value.layers.map((l, n) => checkDescriptor(l, `${where}'s layer ${n + 1}`));
    const configName = this.blobName(configDesc, where);
    const configFile = this.file(configName, where);
    checkSize(configDesc, configFile, configName);
    const configBytes = await this.readBytes(configFile, configName);
    const config = parseImageConfig(configBytes, `${LABEL}'s config ${configDesc.digest}`);
    const diffIds = config.rootfs.diff_ids;
    if (layerDescs.length !== diffIds.length) {
      throw new ImageArchiveError(`${LABEL}'s manifest ${desc.digest} lists ${layerDescs.length} layers, but its config has ${diffIds.length}.`, "The archive is damaged.");
    }
    const layers = [];
    for (const [n, layerDesc] of layerDescs.entries()) {
      const name = this.blobName(layerDesc, where);
      const file = this.file(name, where);
      checkSize(layerDesc, file, name);
      layers.push(await this.layer(file, name, diffIds[n]));
    }
    return { configDigest: configFile.digest, configBytes, config, layers, tags: [] };
  }

  private blobName(desc: Descriptor, where: string): string {
    if (!DIGEST_PATTERN.test(desc.digest)) {
      throw new ImageArchiveError(`${LABEL}'s ${where} names the blob "${desc.digest}"; only sha256 digests are supported.`, "The archive is damaged or uses an unsupported digest algorithm.");
    }
    return `blobs/sha256/${desc.digest.slice("sha256:".length)}`;
  }

  /**
   * The uncompressed layer for an archive file, whose sha256 must be
   * `diffId`. A layer the store already has is not read again: its bytes
   * are those the digest names.
   */
  private async layer(file: StagedFile, name: string, diffId: string): Promise<{ digest: string; size: number; staged?: StagedFile }> {
    const seen = this.layers.get(file.path);
    if (seen) {
      if (seen.digest !== diffId) throw layerMismatch(name, diffId, seen.digest);
      return seen;
    }
    let result: { digest: string; size: number; staged?: StagedFile };
    if (file.digest === diffId) {
      result = { digest: diffId, size: file.size, staged: file };
    } else if (await this.blobs.has(diffId)) {
      // The store already has this layer (its blob name is its digest), so
      // the image will use those bytes, not these: no need to unpack them (Docker skips them too).
      result = { digest: diffId, size: (await this.blobs.size(diffId)) ?? 0 };
    } else {
      const unpacked = await this.decompress(file, name);
      if (unpacked.digest !== diffId) throw layerMismatch(name, diffId, unpacked.digest);
      result = { digest: diffId, size: unpacked.size, staged: unpacked };
    }
    if (result.staged && !(await this.blobs.has(diffId))) await checkLayerTar(result.staged.path, `${LABEL}'s layer ${name}`);
    this.layers.set(file.path, result);
    return result;
  }

  private async decompress(file: StagedFile, name: string): Promise<StagedFile> {
    const compression = await sniffCompression(file.path, name);
    if (compression === "none") return file; // not compressed, yet not the diff_id: the caller reports the mismatch
    try {
      return await this.blobs.stage(decompressStream(createReadStream(file.path), compression), this.staging);
    } catch (err) {
      throw new ImageArchiveError(`${LABEL}'s layer ${name} could not be decompressed (${compression}): ${errorMessage(err)}.`, "The archive is damaged; nothing was added.");
    }
  }

  /** The file an archive path names, following links inside the archive. */
  private file(name: string, where: string): StagedFile {
    let at = name;
    for (let hops = 0; hops < 16; hops++) {
      const entry = this.entries.get(at);
      if (!entry)
        throw new ImageArchiveError(
          `${LABEL}'s ${where} names ${name === at ? name : `${name} (through links, ${at})`}, which is not in the archive.`,
          "The archive is incomplete or damaged; nothing was added.",
        );
      if (entry.kind === "file") return entry.file;
      if (entry.kind === "directory") throw new ImageArchiveError(`${LABEL}'s ${where} names ${at}, which is a folder, not a file.`, "The archive is damaged.");
      if (entry.kind === "hardlink") at = entry.target;
      else {
        if (entry.target.startsWith("/")) throw new ImageArchiveError(`${LABEL} links ${at} to the absolute path ${entry.target}, outside the archive.`, "The archive is damaged or hostile.");
        at = safeEntryPath(path.posix.join(path.posix.dirname(at), entry.target), LABEL, "refuse");
      }
    }
    throw new ImageArchiveError(`${LABEL} links ${name} through more than 16 links.`, "The archive is damaged or hostile.");
  }

  private async readBytes(file: StagedFile, name: string): Promise<Buffer> {
    if (file.size > MAX_JSON_BYTES) throw new ImageArchiveError(`${LABEL}'s ${name} is ${file.size} bytes; metadata files are far smaller.`, "The archive is damaged or hostile.");
    return fs.readFile(file.path);
  }

  private async readJson(name: string, desc?: Descriptor): Promise<unknown> {
    const file = this.file(name, desc ? `descriptor ${desc.digest}` : "layout");
    if (desc) checkSize(desc, file, name);
    const text = (await this.readBytes(file, name)).toString("utf8");
    try {
      return JSON.parse(text);
    } catch (err) {
      throw badJson(name, `it is not valid JSON (${errorMessage(err)})`);
    }
  }
}

/** By magic number, as Docker's DecompressStream: gzip, zstd, xz; anything else is read as a plain tar. */
async function sniffCompression(file: string, name: string): Promise<Compression> {
  const handle = await fs.open(file, "r");
  const head = Buffer.alloc(6);
  try {
    await handle.read(head, 0, 6, 0);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.readUInt32LE(0) === 0xfd2fb528) return "zstd";
  if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
  if (head.subarray(0, 3).toString("latin1") === "BZh")
    throw new ImageArchiveError(`${LABEL}'s layer ${name} is bzip2-compressed, which Hangar does not read.`, "Save the image with plain, gzip or zstd layers.");
  return "none";
}

function descriptorsOf(value: unknown, name: string): Descriptor[] {
  if (!isObject(value) || !Array.isArray(value.manifests)) throw badJson(name, "it has no manifests list");
  return value.manifests.map((d, i) => checkDescriptor(d, `${name}'s manifest ${i + 1}`));
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value) || typeof value.digest !== "string" || typeof value.size !== "number" || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw new ImageArchiveError(`${LABEL}'s ${where} is not a valid descriptor (it needs a digest string and a size).`, "The archive is damaged.");
  }
  if (value.annotations !== undefined && (!isObject(value.annotations) || !Object.values(value.annotations).every((v) => typeof v === "string"))) {
    throw new ImageArchiveError(`${LABEL}'s ${where} has annotations that are not strings.`, "The archive is damaged.");
  }
  return value as unknown as Descriptor;
}

function checkSize(desc: Descriptor, file: StagedFile, name: string): void {
  if (file.size !== desc.size) throw new ImageArchiveError(`${LABEL}'s ${name} is ${file.size} bytes, but its descriptor says ${desc.size}.`, "The archive is damaged; nothing was added.");
}

function isAttestation(desc: Descriptor): boolean {
  return desc.platform?.os === "unknown" || desc.annotations?.["vnd.docker.reference.type"] === "attestation-manifest";
}

/** The tag an index.json descriptor carries, familiar form, or undefined. */
function annotatedTag(desc: Descriptor, where: string): string | undefined {
  const full = desc.annotations?.["io.containerd.image.name"];
  if (full) return tagOf(full, where);
  const refName = desc.annotations?.["org.opencontainers.image.ref.name"];
  if (refName && /[:/@]/.test(refName)) return tagOf(refName, where);
  return undefined; // a bare tag ("latest") names no repository
}

function tagOf(text: string, where: string): string {
  try {
    const ref = parseReference(text);
    if (ref.digest !== undefined) throw new InvalidReferenceError(`"${text}" is a digest reference, not a tag`);
    return familiarString(withDefaultTag(ref));
  } catch (err) {
    if (!(err instanceof InvalidReferenceError)) throw err;
    throw new ImageArchiveError(`${LABEL}'s ${where} tags the image "${text}", which is not a valid tag: ${err.message}.`, "The archive is damaged.");
  }
}

function badJson(name: string, why: string): ImageArchiveError {
  return new ImageArchiveError(`${LABEL}'s ${name} is malformed: ${why}.`, "The archive is damaged; nothing was added.");
}

function mismatch(name: string, expected: string, actual: string): ImageArchiveError {
  return new ImageArchiveError(
    `${LABEL}'s ${name} does not match its digest: expected ${expected}, its content hashes to ${actual}.`,
    "The archive is damaged or was tampered with; nothing was added.",
  );
}

function layerMismatch(name: string, expected: string, actual: string): ImageArchiveError {
  return new ImageArchiveError(
    `${LABEL}'s layer ${name} does not match the image config: its uncompressed sha256 is ${actual}, the config's diff_id is ${expected}.`,
    "The archive is damaged or was tampered with; nothing was added.",
  );
}
