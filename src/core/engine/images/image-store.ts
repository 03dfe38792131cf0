import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { readImageArchive } from "./archive-load";
import { writeImageArchive, type SavedImage } from "./archive-save";
import { BlobStore, type StagedFile } from "./blob-store";
import { formatGoTime, goJson, makeManifest, parseImageConfig, serializeImageConfig, unixSeconds, type ImageConfigFile, type ImageContainerConfig, type ImageHistoryEntry } from "./image-config";
import { ImageArchiveError } from "./image-errors";
import { familiarName, parseTagTarget } from "./image-reference";
import {
  describeImage,
  emptyState,
  historySteps,
  normalizeState,
  parseState,
  pruneImages,
  removeImage,
  renderIndex,
  resolveImage,
  saveSelection,
  selectImages,
  sharedSizes,
  tagImage,
  unusedBlobs,
  type HistoryStep,
  type ImageDeleteItem,
  type ImageInUse,
  type ImageRecord,
  type RemoveOptions,
  type SelectOptions,
  type StoreState,
  type StoredImage,
} from "./image-state";
import { ReadWriteLock } from "./read-write-lock";

export { ImageArchiveError, ImageConflictError, ImageNotFoundError, InvalidReferenceError } from "./image-errors";
export type { HistoryStep, ImageDeleteItem, ImageInUse, ImageUse, RemoveOptions, StoredImage } from "./image-state";
export type { ImageContainerConfig } from "./image-config";

/**
 * The engine's image store on the host: an OCI image layout folder
 * (`oci-layout`, `index.json`, `blobs/sha256/…`) plus `repositories.json`,
 * which holds what OCI has no place for — Docker's tags, each image's
 * parent and LastTagTime — and is the store's source of truth (its format
 * and every rule over it, pure, are in image-state.ts; this class is the
 * storage: files, blobs, locking).
 *
 * index.json is derived from it (one descriptor per tag with
 * `io.containerd.image.name` / `org.opencontainers.image.ref.name`
 * annotations, one bare descriptor per untagged image) and rewritten after
 * it, so OCI tools see the same images. Both are written atomically; a
 * crash between the two is repaired when the store is next opened.
 *
 * Layers are kept uncompressed, so a layer's blob digest is its diffID and
 * the runtime reads blobs directly (`layerFiles`). An image's ID is the
 * digest of its config blob. RepoDigests are "<repo>@<manifest digest>" for
 * each repository the image is tagged in (as Docker's containerd store
 * shows them); the manifest is the store's own, so an image saved and loaded
 * into another store has the same RepoDigests.
 *
 * Writes (tag, remove, prune, load, create) take the store's write lock;
 * reads (list, image, history, save, layerFiles) share a read lock, so a
 * long `docker save` never sees blobs vanish under it. The lock is per root
 * within this process; two processes must not write one store at once.
 */

/** One layer to add: an uncompressed tar file on disk (the store copies it in). */
export interface LayerInput {
  tarPath: string;
  createdBy: string;
  comment?: string;
  emptyLayer?: false;
}

/** A history step that changed only the config (ENV, CMD, …). */
export interface HistoryInput {
  createdBy: string;
  comment?: string;
  emptyLayer: true;
}

export interface ListOptions extends SelectOptions {
  /** Compute each image's sharedSize (bytes of layers shared with other images). */
  sharedSize?: boolean;
}

export interface CreateImageInput {
  config: ImageContainerConfig;
  /** Image (reference or ID) whose layers and history come first. */
  parent?: string;
  layers: Array<LayerInput | HistoryInput>;
  /** "name[:tag]" references to tag the new image with. */
  tags?: string[];
  /** The image's comment (config "comment", as `docker commit -m`). */
  comment?: string;
  /** Default now. History entries get the same time. */
  created?: Date;
  /** Default "386" (the embedded engine's guests are i686). */
  architecture?: string;
  author?: string;
}

const STATE_FILE = "repositories.json";
const INDEX_FILE = "index.json";
const LAYOUT_FILE = "oci-layout";
const locks = new Map<string, ReadWriteLock>();

export class ImageStore {
  private readonly blobs: BlobStore;
  private readonly lock: ReadWriteLock;
  /** Parsed configs by image ID: immutable (content-addressed), so safe to keep. */
  private readonly configs = new Map<string, ImageConfigFile>();

  private constructor(readonly root: string) {
    this.blobs = new BlobStore(root);
    let lock = locks.get(root);
    if (!lock) locks.set(root, (lock = new ReadWriteLock()));
    this.lock = lock;
  }

  /** root: an OCI image layout folder; created if missing. The engine uses `${HANGAR_HOME}/engine/images`. */
  static async open(root: string): Promise<ImageStore> {
    const store = new ImageStore(path.resolve(root));
    await store.lock.write(async () => {
      await store.blobs.init();
      const layout = path.join(store.root, LAYOUT_FILE);
      if (!(await fs.stat(layout).catch(() => undefined))) await writeFileAtomic(layout, goJson({ imageLayoutVersion: "1.0.0" }));
      const state = await store.readState();
      const index = await fs.readFile(path.join(store.root, INDEX_FILE), "utf8").catch(() => undefined);
      if (index !== renderIndex(state)) await writeFileAtomic(path.join(store.root, INDEX_FILE), renderIndex(state));
      await store.blobs.sweepStaging(24 * 3600_000);
    });
    return store;
  }

  /** The images a listing shows (see selectImages), newest first. */
  async list(options: ListOptions = {}): Promise<StoredImage[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const shared = options.sharedSize ? sharedSizes(state) : undefined;
      const out: StoredImage[] = [];
      for (const { id, tags } of selectImages(state, options)) {
        const image = describeImage(state, id, await this.config(id, state.images[id]), tags);
        if (shared) image.sharedSize = shared.get(id) ?? 0;
        out.push(image);
      }
      const created = (i: StoredImage): number => unixSeconds(i.config.created);
      return out.sort((a, b) => created(b) - created(a) || (a.id < b.id ? -1 : 1));
    });
  }

  /** The image `ref` names (see resolveImage for the forms a reference takes). */
  async image(ref: string): Promise<StoredImage> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const { id, record } = resolveImage(state, ref);
      return describeImage(state, id, await this.config(id, record));
    });
  }

  async history(ref: string): Promise<HistoryStep[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const image = resolveImage(state, ref);
      return historySteps(state, image, await this.config(image.id, image.record));
    });
  }

  /** `docker tag`: repo may carry the tag ("name:tag") when `tag` is not given; the tag moves if another image had it. */
  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const target = parseTagTarget(repo, tag);
    await this.lock.write(async () => {
      const state = await this.readState();
      tagImage(state, ref, target, formatGoTime(new Date()));
      await this.writeState(state);
    });
  }

  /** `docker rmi` (see removeImage for Docker's rules); blobs no remaining image uses are deleted. */
  async remove(ref: string, options: RemoveOptions = {}): Promise<ImageDeleteItem[]> {
    return this.lock.write(async () => {
      const state = await this.readState();
      const doomed = new Set<string>();
      const records = removeImage(state, ref, options, doomed);
      await this.commitRemoval(state, doomed);
      return records;
    });
  }

  /** `docker image prune`: dangling images (untagged, no children), or with all every image no container uses. */
  async prune(options: { all?: boolean; inUse?: ImageInUse } = {}): Promise<{ ImagesDeleted: ImageDeleteItem[]; SpaceReclaimed: number }> {
    return this.lock.write(async () => {
      const state = await this.readState();
      const doomed = new Set<string>();
      const deleted = pruneImages(state, options, doomed);
      const reclaimed = await this.commitRemoval(state, doomed);
      return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
    });
  }

  /**
   * `docker load`: a `docker save` archive or an OCI image-layout archive
   * (see archive-load.ts for the formats and every check). All of it is
   * read and verified before anything is added; on any error nothing is.
   * Returns Docker's lines: "Loaded image: name:tag" per tag, "Loaded image
   * ID: sha256:…" per untagged image.
   */
  async load(archive: NodeJS.ReadableStream, options: { signal?: AbortSignal } = {}): Promise<string[]> {
    await this.blobs.init();
    const staging = await this.blobs.newStaging("load");
    try {
      const images = await readImageArchive(archive, staging, this.blobs, options.signal);
      return await this.lock.write(async () => {
        const state = await this.readState();
        const lines: string[] = [];
        const added: string[] = [];
        try {
          const now = formatGoTime(new Date());
          for (const image of images) {
            const layers: Array<{ digest: string; size: number }> = [];
            for (const layer of image.layers) {
              if (layer.staged && (await this.blobs.publish(layer.staged))) added.push(layer.digest);
              layers.push({ digest: layer.digest, size: layer.size });
            }
            const { record } = await this.storeImage(state, image.configBytes, image.config, layers, added, now);
            for (const tag of image.tags) {
              const previous = state.tags[tag];
              if (previous && previous !== image.configDigest) lines.push(`The image ${tag} already exists, renaming the old one with ID ${previous} to empty string`);
              state.tags[tag] = image.configDigest;
              record.lastTagTime = now;
              lines.push(`Loaded image: ${tag}`);
            }
            if (image.tags.length === 0) lines.push(`Loaded image ID: ${image.configDigest}`);
          }
          await this.blobs.sync();
          await this.writeState(state);
        } catch (err) {
          for (const digest of added) await this.blobs.remove(digest);
          throw err;
        }
        return lines;
      });
    } finally {
      await this.blobs.discardStaging(staging);
    }
  }

  /**
   * `docker save`: a tar that Docker and this store load (see
   * archive-save.ts). As Docker: "name:tag" saves that tag, a bare "name"
   * every tag of that repository, an ID the image without tags.
   */
  async save(refs: string[], out: NodeJS.WritableStream): Promise<void> {
    await this.lock.read(async () => {
      const state = await this.readState();
      const images: SavedImage[] = [];
      for (const [id, tags] of saveSelection(state, refs)) {
        const record = state.images[id];
        images.push({
          id,
          tags,
          configPath: this.blobs.path(id),
          configSize: record.config.size,
          manifestPath: this.blobs.path(record.manifest.digest),
          manifestDigest: record.manifest.digest,
          manifestSize: record.manifest.size,
          platform: record.platform,
          layers: record.layers.map((l) => ({ ...l, path: this.blobs.path(l.digest) })),
        });
      }
      await writeImageArchive(images, out);
    });
  }

  /**
   * Stores a new image from a config and layers (the Dockerfile builder,
   * built-in images) and returns it. The image ID is the sha256 of
   * the config as serialised here (fixed key order, Go's JSON escaping), so
   * the same input gives the same ID; an image that exists already only
   * gains the tags.
   */
  async create(input: CreateImageInput): Promise<StoredImage> {
    const tags = (input.tags ?? []).map((t) => parseTagTarget(t));
    const created = formatGoTime(input.created ?? new Date());
    await this.blobs.init();
    const staging = await this.blobs.newStaging("create");
    try {
      const staged: StagedFile[] = [];
      for (const layer of input.layers) {
        if (layer.emptyLayer) continue;
        const file = await fs.stat(layer.tarPath).catch(() => undefined);
        if (!file?.isFile()) throw new HangarError(`The layer file ${layer.tarPath} does not exist.`, "The image was not created.");
        staged.push(await this.blobs.stage(createReadStream(layer.tarPath), staging));
      }
      return await this.lock.write(async () => {
        const state = await this.readState();
        const parent = input.parent ? resolveImage(state, input.parent) : undefined;
        const parentConfig = parent && (await this.config(parent.id, parent.record));
        const history: ImageHistoryEntry[] = [...(parentConfig?.history ?? [])];
        for (const layer of input.layers) {
          const entry: ImageHistoryEntry = { created, created_by: layer.createdBy };
          if (layer.comment) entry.comment = layer.comment;
          if (layer.emptyLayer) entry.empty_layer = true;
          history.push(entry);
        }
        const layers = [...(parent?.record.layers ?? []), ...staged.map((s) => ({ digest: s.digest, size: s.size }))];
        const config: ImageConfigFile = {
          created,
          ...(input.author ? { author: input.author } : {}),
          architecture: input.architecture ?? parentConfig?.architecture ?? "386",
          os: parentConfig?.os ?? "linux",
          config: input.config,
          rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
          history,
          ...(input.comment ? { comment: input.comment } : {}),
        };
        return this.commit(state, serializeImageConfig(config), config, layers, staged, tags, (id, record) => {
          if (parent && !record.parent && parent.id !== id) record.parent = parent.id;
        });
      });
    } finally {
      await this.blobs.discardStaging(staging);
    }
  }

  /**
   * Adds an image a registry pull fetched: `fetchLayers` downloads what the
   * store lacks (`have` says what it holds), staging each layer uncompressed
   * with `stage`, and returns every layer by its diff ID; they must be the
   * config's diff IDs. The config keeps the registry's bytes (so the image ID
   * is Docker's); `registryDigest` is the manifest digest the registry knows
   * it by, shown in RepoDigests. On any error nothing is added.
   */
  async addFetched(o: {
    configBytes: Buffer;
    tags: string[];
    repository: string;
    registryDigest: string;
    fetchLayers(
      stage: (source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>) => Promise<StagedFile>,
      have: (digest: string) => Promise<boolean>,
    ): Promise<Array<{ digest: string; staged?: StagedFile }>>;
  }): Promise<StoredImage> {
    const config = parseImageConfig(o.configBytes, "the pulled image's config");
    const tags = o.tags.map((t) => parseTagTarget(t));
    await this.blobs.init();
    const staging = await this.blobs.newStaging("pull");
    try {
      const fetched = await o.fetchLayers(
        (source) => this.blobs.stage(source, staging),
        (digest) => this.blobs.has(digest),
      );
      if (fetched.map((l) => l.digest).join() !== config.rootfs.diff_ids.join())
        throw new ImageArchiveError("The pulled layers are not the ones the image's config lists.", "Nothing was added; try the pull again.");
      for (const l of fetched)
        if (l.staged && l.staged.digest !== l.digest) throw new ImageArchiveError(`A pulled layer's content is ${l.staged.digest}, not ${l.digest}.`, "Nothing was added; try the pull again.");
      return await this.lock.write(async () => {
        const state = await this.readState();
        const layers: Array<{ digest: string; size: number }> = [];
        for (const l of fetched) layers.push({ digest: l.digest, size: l.staged?.size ?? (await this.blobs.size(l.digest)) ?? 0 });
        const staged = fetched.flatMap((l) => (l.staged ? [l.staged] : []));
        return this.commit(state, o.configBytes, config, layers, staged, tags, (_id, record) => {
          record.registryDigests = { ...record.registryDigests, [familiarName(o.repository)]: o.registryDigest };
        });
      });
    } finally {
      await this.blobs.discardStaging(staging);
    }
  }

  /**
   * What a push sends for one image: its manifest (this store's: OCI,
   * uncompressed layers, so the registry's digest is the RepoDigest shown
   * here), config and layer blobs as files, read under the store's lock.
   */
  async pushSource<T>(
    ref: string,
    use: (image: { id: string; manifest: Buffer; configPath: string; configSize: number; layers: Array<{ digest: string; size: number; path: string }> }) => Promise<T>,
  ): Promise<T> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const { id, record } = resolveImage(state, ref);
      const manifest = await fs.readFile(this.blobs.path(record.manifest.digest));
      return use({ id, manifest, configPath: this.blobs.path(id), configSize: record.config.size, layers: record.layers.map((l) => ({ ...l, path: this.blobs.path(l.digest) })) });
    });
  }

  /** Remembers the digest a registry knows an image by in a repository (after a push). */
  async noteRegistryDigest(id: string, repository: string, digest: string): Promise<void> {
    await this.lock.write(async () => {
      const state = await this.readState();
      const record = state.images[id];
      if (!record) return;
      record.registryDigests = { ...record.registryDigests, [familiarName(repository)]: digest };
      await this.writeState(state);
    });
  }

  /** Uncompressed layer tar files (blobs of this store), base first, for the runtime that builds a container's rootfs. */
  async layerFiles(ref: string): Promise<string[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      return resolveImage(state, ref).record.layers.map((l) => this.blobs.path(l.digest));
    });
  }

  /** Number of images and total bytes of blobs, for `system df`. */
  async diskUsage(): Promise<{ images: number; layersSize: number }> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const blobs = await this.blobs.list();
      return { images: Object.keys(state.images).length, layersSize: blobs.reduce((n, b) => n + b.size, 0) };
    });
  }

  // ---- internals ----

  /** Adds config and manifest blobs and the image's record (or returns the existing record). */
  /**
   * Publishes the staged layers, stores the image (`decorate` adds to its
   * record), points `tags` at it and writes the state; on any error the
   * blobs it added are removed again. Under the write lock.
   */
  private async commit(
    state: StoreState,
    configBytes: Buffer,
    config: ImageConfigFile,
    layers: Array<{ digest: string; size: number }>,
    staged: StagedFile[],
    tags: string[],
    decorate: (id: string, record: ImageRecord) => void,
  ): Promise<StoredImage> {
    const added: string[] = [];
    try {
      for (const s of staged) if (await this.blobs.publish(s)) added.push(s.digest);
      const now = formatGoTime(new Date());
      const { id, record } = await this.storeImage(state, configBytes, config, layers, added, now);
      decorate(id, record);
      for (const tag of tags) {
        state.tags[tag] = id;
        record.lastTagTime = now;
      }
      await this.blobs.sync();
      await this.writeState(state);
      return describeImage(state, id, await this.config(id, record));
    } catch (err) {
      for (const digest of added) await this.blobs.remove(digest);
      throw err;
    }
  }

  private async storeImage(
    state: StoreState,
    configBytes: Buffer,
    config: ImageConfigFile,
    layers: Array<{ digest: string; size: number }>,
    added: string[],
    now: string,
  ): Promise<{ id: string; record: ImageRecord }> {
    const configStaged = await this.blobs.stageBytes(configBytes, this.blobs.stagingRoot);
    const id = configStaged.digest;
    try {
      if (await this.blobs.publish(configStaged)) added.push(id);
    } finally {
      await fs.rm(configStaged.path, { force: true });
    }
    const existing = state.images[id];
    if (existing) return { id, record: existing };
    for (const l of layers) if (!(await this.blobs.has(l.digest))) throw new ImageArchiveError(`The layer ${l.digest} of image ${id} is missing from the store.`, "Nothing was added.");
    const manifestBytes = makeManifest(id, configBytes.length, layers);
    const manifestStaged = await this.blobs.stageBytes(manifestBytes, this.blobs.stagingRoot);
    try {
      if (await this.blobs.publish(manifestStaged)) added.push(manifestStaged.digest);
    } finally {
      await fs.rm(manifestStaged.path, { force: true });
    }
    const record: ImageRecord = {
      manifest: { digest: manifestStaged.digest, size: manifestBytes.length },
      config: { size: configBytes.length },
      layers,
      platform: { architecture: config.architecture ?? "", os: config.os ?? "linux", ...(config.variant ? { variant: config.variant } : {}) },
      stored: now,
    };
    state.images[id] = record;
    this.configs.set(id, config);
    return { id, record };
  }

  private async config(id: string, record: ImageRecord): Promise<ImageConfigFile> {
    const cached = this.configs.get(id);
    if (cached) return cached;
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(this.blobs.path(id));
    } catch {
      throw new HangarError(`The image store at ${this.root} is damaged: the config blob of image ${id} is missing.`, `Remove the image (docker rmi ${id.slice(7, 19)}) and load or build it again.`);
    }
    const config = parseImageConfig(bytes, `The config of image ${id}`);
    if (config.rootfs.diff_ids.length !== record.layers.length) throw new HangarError(`The image store at ${this.root} is damaged: image ${id} has a layer list that disagrees with its config.`);
    this.configs.set(id, config);
    return config;
  }

  private async readState(): Promise<StoreState> {
    const file = path.join(this.root, STATE_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyState();
      throw err;
    }
    const state = parseState(text);
    if (!state) throw new HangarError(`The image store's ${file} is damaged or from a newer Hangar.`, `Move the folder ${this.root} away to start with an empty image store.`);
    return state;
  }

  /** repositories.json first (the truth), then index.json derived from it. */
  private async writeState(state: StoreState): Promise<void> {
    const normal = normalizeState(state);
    await writeFileAtomic(path.join(this.root, STATE_FILE), `${JSON.stringify(normal, null, 2)}\n`);
    await writeFileAtomic(path.join(this.root, INDEX_FILE), renderIndex(normal));
  }

  /** Writes the state, then deletes blobs of removed images that no remaining image uses. Returns bytes freed. */
  private async commitRemoval(state: StoreState, doomed: Set<string>): Promise<number> {
    await this.writeState(state);
    let freed = 0;
    for (const digest of unusedBlobs(state, doomed)) {
      freed += await this.blobs.remove(digest);
      this.configs.delete(digest);
    }
    return freed;
  }
}
