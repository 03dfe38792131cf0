import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { readImageArchive } from "./archive-load";
import { writeImageArchive, type SavedImage } from "./archive-save";
import { BlobStore, type StagedFile } from "./blob-store";
import {
  formatGoTime,
  goJson,
  makeManifest,
  MEDIA_TYPE,
  parseImageConfig,
  serializeImageConfig,
  unixSeconds,
  type Descriptor,
  type ImageConfigFile,
  type ImageContainerConfig,
  type ImageHistoryEntry,
} from "./image-config";
import { ImageArchiveError, ImageConflictError, ImageNotFoundError } from "./image-errors";
import { familiarName, familiarString, fullString, matchesReferencePattern, parseReference, parseTagTarget, splitFamiliarTag, withDefaultTag, type ImageReference } from "./image-reference";
import { ReadWriteLock } from "./read-write-lock";

export { ImageArchiveError, ImageConflictError, ImageNotFoundError, InvalidReferenceError } from "./image-errors";
export type { ImageContainerConfig } from "./image-config";

/**
 * The engine's image store on the host: an OCI image layout folder
 * (`oci-layout`, `index.json`, `blobs/sha256/…`) plus `repositories.json`,
 * which holds what OCI has no place for — Docker's tags, each image's
 * parent and LastTagTime — and is the store's source of truth:
 *
 *   { "format": 1,
 *     "images": { "<image id>": { manifest, config, layers, platform, parent?, lastTagTime?, stored } },
 *     "tags":   { "<familiar name:tag>": "<image id>" } }
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
 * reads (list, inspect, history, save, layerFiles) share a read lock, so a
 * long `docker save` never sees blobs vanish under it. The lock is per root
 * within this process; two processes must not write one store at once.
 */

/** Docker's ImageInspect JSON, as `docker image inspect` prints it. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: "layers"; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** Docker's ImageSummary (GET /images/json items). */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  /** -1 unless asked for (as Docker: computed only for `system df`). */
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  /** -1 unless a `containers` counter is given (as Docker). */
  Containers: number;
}

/** Docker's HistoryResponseItem (GET /images/{name}/history). */
export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** Docker's ImageDeleteResponseItem. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

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

/**
 * Whether a container uses an image: false/undefined when none does; true,
 * or the container's ID (named in the conflict message), when one does; the
 * object form also says whether it runs (a running container's image cannot
 * be removed even with force).
 */
export type ImageUse = boolean | string | { container: string; running: boolean } | undefined;
export type ImageInUse = (imageId: string) => ImageUse;

export interface ListOptions {
  /** Also images without tags that have children (Docker's intermediate images). */
  all?: boolean;
  /** true: only untagged images without children; false: only tagged ones. */
  dangling?: boolean;
  /** Docker's `reference=` filter: glob(s) on the familiar name or name:tag; RepoTags then lists only matches. */
  reference?: string | string[];
  /** How many containers use an image (fills Containers, else -1). */
  containers?: (imageId: string) => number;
  /** Compute SharedSize (bytes of layers shared with other images), else -1. */
  sharedSize?: boolean;
}

export interface RemoveOptions {
  force?: boolean;
  /** Keep untagged parents that the removal leaves without children. */
  noPrune?: boolean;
  inUse?: ImageInUse;
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

interface ImageRecord {
  manifest: { digest: string; size: number };
  config: { size: number };
  /** Uncompressed layer blobs (digest == diffID), base first. */
  layers: Array<{ digest: string; size: number }>;
  platform: { architecture: string; os: string; variant?: string };
  parent?: string;
  lastTagTime?: string;
  /** When the store got it. */
  stored: string;
}

interface StoreState {
  format: 1;
  images: Record<string, ImageRecord>;
  tags: Record<string, string>;
}

/** A reference resolved against the state; `tag` is set when it named a tag (familiar form). */
interface Resolved {
  id: string;
  record: ImageRecord;
  tag?: string;
}

const STATE_FILE = "repositories.json";
const INDEX_FILE = "index.json";
const LAYOUT_FILE = "oci-layout";
const ZERO_TIME = "0001-01-01T00:00:00Z";
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

  async list(options: ListOptions = {}): Promise<ImageSummary[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const patterns = options.reference === undefined ? undefined : ([] as string[]).concat(options.reference);
      const children = childCounts(state);
      const layerUse = new Map<string, number>();
      if (options.sharedSize) for (const r of Object.values(state.images)) for (const l of r.layers) layerUse.set(l.digest, (layerUse.get(l.digest) ?? 0) + 1);
      const out: ImageSummary[] = [];
      for (const [id, record] of Object.entries(state.images)) {
        let tags = tagsOf(state, id);
        const tagged = tags.length > 0;
        if (patterns) tags = tags.filter((t) => patterns.some((p) => matchesReferencePattern(p, t)));
        if (tagged && tags.length === 0) continue; // tagged, but not as the filter asks
        if (!tagged) {
          if (patterns || options.dangling === false) continue;
          if (!options.all && !options.dangling && (children.get(id) ?? 0) > 0) continue; // intermediate
          if (options.dangling && (children.get(id) ?? 0) > 0) continue;
        } else if (options.dangling) continue;
        const config = await this.config(id, record);
        const size = imageSize(record);
        out.push({
          Id: id,
          ParentId: record.parent ?? "",
          RepoTags: tags,
          RepoDigests: repoDigests(tags, record),
          Created: unixSeconds(config.created),
          Size: size,
          SharedSize: options.sharedSize ? record.layers.filter((l) => (layerUse.get(l.digest) ?? 0) > 1).reduce((n, l) => n + l.size, 0) : -1,
          VirtualSize: size,
          Labels: config.config?.Labels ?? {},
          Containers: options.containers ? options.containers(id) : -1,
        });
      }
      return out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
    });
  }

  /**
   * ref: name[:tag] (tag defaults to latest; Docker's default domain and
   * "library/" normalised away), a full "sha256:<64hex>" ID, a unique ID
   * prefix (with or without "sha256:"), or name@sha256:<manifest digest>.
   */
  async inspect(ref: string): Promise<ImageInspect> {
    return this.lock.read(async () => {
      const state = await this.readState();
      return this.inspectResolved(state, resolve(state, ref));
    });
  }

  async history(ref: string): Promise<ImageHistoryItem[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      const image = resolve(state, ref);
      const config = await this.config(image.id, image.record);
      const items: ImageHistoryItem[] = [];
      let layer = 0;
      for (const h of config.history ?? []) {
        const size = h.empty_layer ? 0 : (image.record.layers[layer++]?.size ?? 0);
        items.unshift({ Id: "<missing>", Created: unixSeconds(h.created), CreatedBy: h.created_by ?? "", Tags: null, Size: size, Comment: h.comment ?? "" });
      }
      // As Docker's classic store: the newest step gets the image's ID, each
      // older step the next ancestor's, while local parents last.
      let id: string | undefined = image.id;
      for (const item of items) {
        if (!id || !state.images[id]) break;
        item.Id = id;
        const tags = tagsOf(state, id);
        item.Tags = tags.length > 0 ? tags : null;
        id = state.images[id].parent;
      }
      return items;
    });
  }

  /** `docker tag`: repo may carry the tag ("name:tag") when `tag` is not given; the tag moves if another image had it. */
  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const target = parseTagTarget(repo, tag);
    await this.lock.write(async () => {
      const state = await this.readState();
      const image = resolve(state, ref);
      state.tags[target] = image.id;
      image.record.lastTagTime = formatGoTime(new Date());
      await this.writeState(state);
    });
  }

  /**
   * `docker rmi`, with Docker's rules: a name removes that tag, and the image
   * goes with its last tag (unless children or a container keep it); an ID
   * removes the image with all its tags, which needs force when it has
   * several. A container's image is refused without force (a running one's
   * by ID even with force); with force it is untagged but kept, as the
   * container still needs its layers. Untagged parents left without
   * children go too, unless noPrune.
   */
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
      const children = childCounts(state);
      const candidates = Object.keys(state.images).filter((id) => {
        const tagged = tagsOf(state, id).length > 0;
        if (!tagged && (children.get(id) ?? 0) > 0) return false; // intermediate: goes with its child
        if (tagged && !options.all) return false;
        return !useOf(options.inUse, id);
      });
      const deleted: ImageDeleteItem[] = [];
      const doomed = new Set<string>();
      for (const id of candidates) {
        if (!state.images[id]) continue; // already gone as another's parent
        const refs = tagsOf(state, id);
        for (const ref of refs.length > 0 ? refs : [id]) {
          try {
            deleted.push(...removeImage(state, ref, { inUse: options.inUse }, doomed));
          } catch (err) {
            if (!(err instanceof ImageConflictError || err instanceof ImageNotFoundError)) throw err;
          }
        }
      }
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
      const chosen = new Map<string, Set<string>>();
      const add = (id: string, tag?: string): void => {
        const tags = chosen.get(id) ?? new Set<string>();
        chosen.set(id, tags);
        if (tag) tags.add(tag);
      };
      for (const ref of refs) {
        const parsed = tryParse(ref);
        if (parsed && parsed.tag === undefined && parsed.digest === undefined && familiarName(parsed.name) !== "sha256") {
          const repo = familiarName(parsed.name);
          const tags = Object.keys(state.tags).filter((t) => splitFamiliarTag(t).repo === repo);
          if (tags.length > 0) {
            for (const t of tags) add(state.tags[t], t);
            continue;
          }
        }
        const image = resolve(state, ref);
        add(image.id, image.tag);
      }
      const images: SavedImage[] = [];
      for (const [id, tags] of chosen) {
        const record = state.images[id];
        images.push({
          id,
          tags: sortTags([...tags]),
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
   * built-in images) and returns its inspect. The image ID is the sha256 of
   * the config as serialised here (fixed key order, Go's JSON escaping), so
   * the same input gives the same ID; an image that exists already only
   * gains the tags.
   */
  async create(input: CreateImageInput): Promise<ImageInspect> {
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
        const parent = input.parent ? resolve(state, input.parent) : undefined;
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
        const configBytes = serializeImageConfig(config);
        const added: string[] = [];
        try {
          for (const s of staged) if (await this.blobs.publish(s)) added.push(s.digest);
          const now = formatGoTime(new Date());
          const { id, record } = await this.storeImage(state, configBytes, config, layers, added, now);
          if (parent && !record.parent && parent.id !== id) record.parent = parent.id;
          for (const tag of tags) {
            state.tags[tag] = id;
            record.lastTagTime = now;
          }
          await this.blobs.sync();
          await this.writeState(state);
          return this.inspectResolved(state, { id, record });
        } catch (err) {
          for (const digest of added) await this.blobs.remove(digest);
          throw err;
        }
      });
    } finally {
      await this.blobs.discardStaging(staging);
    }
  }

  /** Uncompressed layer tar files (blobs of this store), base first, for the runtime that builds a container's rootfs. */
  async layerFiles(ref: string): Promise<string[]> {
    return this.lock.read(async () => {
      const state = await this.readState();
      return resolve(state, ref).record.layers.map((l) => this.blobs.path(l.digest));
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
  private async storeImage(state: StoreState, configBytes: Buffer, config: ImageConfigFile, layers: Array<{ digest: string; size: number }>, added: string[], now: string): Promise<{ id: string; record: ImageRecord }> {
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

  private async inspectResolved(state: StoreState, image: { id: string; record: ImageRecord }): Promise<ImageInspect> {
    const config = await this.config(image.id, image.record);
    const tags = tagsOf(state, image.id);
    const inspect: ImageInspect = {
      Id: image.id,
      RepoTags: tags,
      RepoDigests: repoDigests(tags, image.record),
      Parent: image.record.parent ?? "",
      Comment: config.comment ?? "",
      Created: config.created ?? ZERO_TIME,
      DockerVersion: config.docker_version ?? "",
      Author: config.author ?? "",
      Config: config.config ?? {},
      Architecture: config.architecture ?? "",
      Os: config.os ?? "linux",
      Size: imageSize(image.record),
      RootFS: { Type: "layers", Layers: [...config.rootfs.diff_ids] },
      Metadata: { LastTagTime: image.record.lastTagTime ?? ZERO_TIME },
    };
    if (config.variant) inspect.Variant = config.variant;
    return inspect;
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
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { format: 1, images: {}, tags: {} };
      throw err;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      state = undefined;
    }
    const s = state as Partial<StoreState> | undefined;
    if (!s || s.format !== 1 || typeof s.images !== "object" || typeof s.tags !== "object" || s.images === null || s.tags === null) {
      throw new HangarError(`The image store's ${file} is damaged or from a newer Hangar.`, `Move the folder ${this.root} away to start with an empty image store.`);
    }
    return s as StoreState;
  }

  /** repositories.json first (the truth), then index.json derived from it. */
  private async writeState(state: StoreState): Promise<void> {
    for (const [tag, id] of Object.entries(state.tags)) if (!state.images[id]) delete state.tags[tag];
    const sorted: StoreState = { format: 1, images: sortKeys(state.images), tags: sortKeys(state.tags) };
    await writeFileAtomic(path.join(this.root, STATE_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
    await writeFileAtomic(path.join(this.root, INDEX_FILE), renderIndex(sorted));
  }

  /** Writes the state, then deletes blobs of removed images that no remaining image uses. Returns bytes freed. */
  private async commitRemoval(state: StoreState, doomed: Set<string>): Promise<number> {
    await this.writeState(state);
    const kept = new Set<string>();
    for (const [id, r] of Object.entries(state.images)) {
      kept.add(id);
      kept.add(r.manifest.digest);
      for (const l of r.layers) kept.add(l.digest);
    }
    let freed = 0;
    for (const digest of doomed) {
      if (kept.has(digest)) continue;
      freed += await this.blobs.remove(digest);
      this.configs.delete(digest);
    }
    return freed;
  }
}

// ---- state helpers (pure, on a state being changed under the write lock) ----

/** The image's tags, in Docker's order (by full reference). */
function tagsOf(state: StoreState, id: string): string[] {
  return sortTags(Object.keys(state.tags).filter((t) => state.tags[t] === id));
}

function sortTags(tags: string[]): string[] {
  const keyed = tags.map((t) => ({ t, key: fullString(parseReference(t)) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.t);
}

function repoDigests(tags: string[], record: ImageRecord): string[] {
  return [...new Set(tags.map((t) => splitFamiliarTag(t).repo))].map((repo) => `${repo}@${record.manifest.digest}`);
}

function imageSize(record: ImageRecord): number {
  return record.layers.reduce((n, l) => n + l.size, 0);
}

function childCounts(state: StoreState): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of Object.values(state.images)) if (r.parent) counts.set(r.parent, (counts.get(r.parent) ?? 0) + 1);
  return counts;
}

function tryParse(ref: string): ImageReference | undefined {
  try {
    return parseReference(ref);
  } catch {
    return undefined;
  }
}

/**
 * Resolves a reference as Docker's GetImage does: a full ID; then a name
 * (name@digest by repo digest, else name:tag); then an ID prefix.
 */
function resolve(state: StoreState, ref: string): Resolved {
  const full = /^(?:sha256:)?([0-9a-f]{64})$/.exec(ref);
  if (full) {
    const id = `sha256:${full[1]}`;
    const record = state.images[id];
    if (record) return { id, record };
    throw new ImageNotFoundError(id);
  }
  let parsed: ImageReference | undefined;
  let parseError: unknown;
  try {
    parsed = parseReference(ref);
  } catch (err) {
    parseError = err;
  }
  if (parsed?.digest !== undefined) {
    const repo = familiarName(parsed.name);
    for (const [id, record] of Object.entries(state.images)) {
      if (record.manifest.digest === parsed.digest && tagsOf(state, id).some((t) => splitFamiliarTag(t).repo === repo)) return { id, record };
    }
    throw new ImageNotFoundError(familiarString(parsed));
  }
  if (parsed) {
    const tag = familiarString(withDefaultTag(parsed));
    const id = state.tags[tag];
    if (id && state.images[id]) return { id, record: state.images[id], tag };
  }
  const prefix = /^(?:sha256:)?([0-9a-f]{1,63})$/.exec(ref);
  if (prefix) {
    const matches = Object.keys(state.images).filter((id) => id.startsWith(`sha256:${prefix[1]}`));
    if (matches.length === 1) return { id: matches[0], record: state.images[matches[0]] };
    if (matches.length > 1) throw new ImageConflictError(`multiple IDs found with provided prefix: ${prefix[1]}`, "Give more characters of the image ID.");
  }
  if (!parsed) throw parseError;
  throw new ImageNotFoundError(familiarString(withDefaultTag(parsed)));
}

function useOf(inUse: ImageInUse | undefined, id: string): { container?: string; running: boolean } | undefined {
  const use = inUse?.(id);
  if (!use) return undefined;
  if (use === true) return { running: false };
  if (typeof use === "string") return { container: use, running: false };
  return use;
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** Removes `tag` (familiar) from the state; also says "Untagged: repo@digest" when it was the repository's last tag on the image. */
function untag(state: StoreState, tag: string, id: string, records: ImageDeleteItem[]): void {
  delete state.tags[tag];
  records.push({ Untagged: tag });
  const repo = splitFamiliarTag(tag).repo;
  if (!tagsOf(state, id).some((t) => splitFamiliarTag(t).repo === repo)) records.push({ Untagged: `${repo}@${state.images[id].manifest.digest}` });
}

/** The heart of `docker rmi` (moby daemon/images/image_delete.go), on a state under the write lock. */
function removeImage(state: StoreState, ref: string, options: RemoveOptions, doomed: Set<string>): ImageDeleteItem[] {
  const image = resolve(state, ref);
  const { id } = image;
  const records: ImageDeleteItem[] = [];
  const use = useOf(options.inUse, id);
  const children = childCounts(state).get(id) ?? 0;
  const byId = isIdPrefix(id, ref);

  if (!byId) {
    const tags = tagsOf(state, id);
    if (!options.force && tags.length <= 1 && use) {
      throw new ImageConflictError(
        `conflict: unable to remove repository reference "${ref}" (must force) - container ${use.container ? shortId(use.container) : "(unnamed)"} is using its referenced image ${shortId(id)}`,
        "Remove the container first, or force the removal.",
      );
    }
    if (image.tag !== undefined) untag(state, image.tag, id, records);
    else for (const t of tags.filter((t) => splitFamiliarTag(t).repo === familiarName(parseReference(ref).name))) untag(state, t, id, records); // name@digest: that repository's tags
    if (tagsOf(state, id).length > 0) return records;
    // Its last tag is gone: delete it too, but quietly keep it when something still needs it.
    if (children > 0 || use) return records;
  } else {
    const tags = tagsOf(state, id);
    const conflict = (hard: boolean, why: string): ImageConflictError =>
      new ImageConflictError(`conflict: unable to delete ${shortId(id)} (${hard ? "cannot be forced" : "must be forced"}) - ${why}`, hard ? undefined : "Force the removal to go ahead.");
    if (children > 0) throw conflict(true, "image has dependent child images");
    if (use?.running) throw conflict(true, `image is being used by running container ${use.container ? shortId(use.container) : ""}`.trimEnd());
    if (tags.length > 1 && !options.force) throw conflict(false, "image is referenced in multiple repositories");
    if (use && !options.force) throw conflict(false, `image is being used by stopped container ${use.container ? shortId(use.container) : ""}`.trimEnd());
    for (const t of tags) untag(state, t, id, records);
    if (use) return records; // forced: untagged, kept for the container
  }
  deleteWithParents(state, id, records, doomed, options);
  return records;
}

function deleteWithParents(state: StoreState, id: string, records: ImageDeleteItem[], doomed: Set<string>, options: RemoveOptions): void {
  const record = state.images[id];
  delete state.images[id];
  records.push({ Deleted: id });
  doomed.add(id);
  doomed.add(record.manifest.digest);
  const stillUsed = new Set(Object.values(state.images).flatMap((r) => r.layers.map((l) => l.digest)));
  for (const l of record.layers) {
    if (!stillUsed.has(l.digest) && !doomed.has(l.digest)) records.push({ Deleted: l.digest });
    doomed.add(l.digest);
  }
  const parent = record.parent;
  if (options.noPrune || !parent || !state.images[parent]) return;
  // Prune the parent quietly: only if untagged, childless and unused.
  if (tagsOf(state, parent).length > 0 || (childCounts(state).get(parent) ?? 0) > 0 || useOf(options.inUse, parent)) return;
  deleteWithParents(state, parent, records, doomed, options);
}

/** Docker's isImageIDPrefix: the reference is (a prefix of) the ID, with or without "sha256:". */
function isIdPrefix(id: string, ref: string): boolean {
  return id.startsWith(ref) || id.slice("sha256:".length).startsWith(ref);
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** index.json for the state: a descriptor per tag (annotated), a bare one per untagged image. */
function renderIndex(state: StoreState): string {
  const manifests: Descriptor[] = [];
  for (const id of Object.keys(state.images).sort()) {
    const record = state.images[id];
    const descriptor: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest: record.manifest.digest, size: record.manifest.size, platform: record.platform };
    const tags = tagsOf(state, id);
    if (tags.length === 0) manifests.push(descriptor);
    for (const tag of tags) {
      const ref = parseReference(tag);
      manifests.push({ ...descriptor, annotations: { "io.containerd.image.name": fullString(ref), "org.opencontainers.image.ref.name": ref.tag ?? "latest" } });
    }
  }
  return `${JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }, null, 2)}\n`;
}
