import { MEDIA_TYPE, type Descriptor, type ImageConfigFile } from "./image-config";
import { ImageConflictError, ImageNotFoundError } from "./image-errors";
import { familiarName, familiarString, fullString, matchesReferencePattern, parseReference, splitFamiliarTag, withDefaultTag, type ImageReference } from "./image-reference";

/**
 * The image store's state as pure data and the rules over it: resolving a
 * reference, tagging, `docker rmi`/`prune`, which images a listing or a
 * `docker save` takes, and the OCI index derived from it. Nothing here
 * touches the disk; image-store.ts reads the state, hands it to these
 * functions under its lock, and writes it back.
 *
 * The state is repositories.json, the store's source of truth:
 *
 *   { "format": 1,
 *     "images": { "<image id>": { manifest, config, layers, platform, parent?, lastTagTime?, stored } },
 *     "tags":   { "<familiar name:tag>": "<image id>" } }
 */

export interface ImageRecord {
  manifest: { digest: string; size: number };
  config: { size: number };
  /** Uncompressed layer blobs (digest == diffID), base first. */
  layers: Array<{ digest: string; size: number }>;
  platform: { architecture: string; os: string; variant?: string };
  parent?: string;
  lastTagTime?: string;
  /** When the store got it. */
  stored: string;
  /** Manifest digests registries know it by (a pull's, whose layers were compressed), by repository (familiar name). */
  registryDigests?: Record<string, string>;
}

export interface StoreState {
  format: 1;
  images: Record<string, ImageRecord>;
  tags: Record<string, string>;
}

/** A reference resolved against the state; `tag` is set when it named a tag (familiar form). */
export interface ResolvedImage {
  id: string;
  record: ImageRecord;
  tag?: string;
}

/**
 * One image as the store describes it: the facts Docker's ImageInspect and
 * ImageSummary are shaped from (src/core/api/image-responses.ts).
 */
export interface StoredImage {
  id: string;
  /** Familiar "name:tag" references, in Docker's order (a listing's reference filter may narrow them). */
  tags: string[];
  /** "<repo>@<manifest digest>" for each repository among `tags`. */
  repoDigests: string[];
  parent?: string;
  /** The parsed config blob. */
  config: ImageConfigFile;
  /** Bytes of its layers. */
  size: number;
  lastTagTime?: string;
  /** Bytes of its layers that other images share; set only when a listing asks for it. */
  sharedSize?: number;
}

/** One step of an image's history, newest first; `image` is set while the step is a local ancestor (or the image itself). */
export interface HistoryStep {
  created?: string;
  createdBy: string;
  comment: string;
  size: number;
  image?: { id: string; tags: string[] };
}

/** Docker's ImageDeleteResponseItem: what `docker rmi` reports, step by step. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

/**
 * Whether a container uses an image: false/undefined when none does; true,
 * or the container's ID (named in the conflict message), when one does; the
 * object form also says whether it runs (a running container's image cannot
 * be removed even with force).
 */
export type ImageUse = boolean | string | { container: string; running: boolean } | undefined;
export type ImageInUse = (imageId: string) => ImageUse;

export interface SelectOptions {
  /** Also images without tags that have children (Docker's intermediate images). */
  all?: boolean;
  /** true: only untagged images without children; false: only tagged ones. */
  dangling?: boolean;
  /** Docker's `reference=` filter: glob(s) on the familiar name or name:tag; the tags then list only matches. */
  reference?: string | string[];
}

export interface RemoveOptions {
  force?: boolean;
  /** Keep untagged parents that the removal leaves without children. */
  noPrune?: boolean;
  inUse?: ImageInUse;
}

export function emptyState(): StoreState {
  return { format: 1, images: {}, tags: {} };
}

/** The state in repositories.json's text, or undefined when it is not a state this version reads. */
export function parseState(text: string): StoreState | undefined {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return undefined;
  }
  const s = state as Partial<StoreState> | null;
  if (!s || s.format !== 1 || typeof s.images !== "object" || typeof s.tags !== "object" || s.images === null || s.tags === null) return undefined;
  return s as StoreState;
}

/** The state as repositories.json holds it: tags of missing images dropped, keys sorted (stable files, stable diffs). */
export function normalizeState(state: StoreState): StoreState {
  const tags = Object.fromEntries(Object.entries(state.tags).filter(([, id]) => state.images[id] !== undefined));
  return { format: 1, images: sortKeys(state.images), tags: sortKeys(tags) };
}

/** The image's tags, in Docker's order (by full reference). */
export function tagsOf(state: StoreState, id: string): string[] {
  return sortTags(Object.keys(state.tags).filter((t) => state.tags[t] === id));
}

export function sortTags(tags: string[]): string[] {
  const keyed = tags.map((t) => ({ t, key: fullString(parseReference(t)) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.t);
}

export function repoDigests(tags: string[], record: ImageRecord): string[] {
  const repos = new Set([...tags.map((t) => splitFamiliarTag(t).repo), ...Object.keys(record.registryDigests ?? {})]);
  return [...repos].map((repo) => `${repo}@${record.registryDigests?.[repo] ?? record.manifest.digest}`);
}

export function imageSize(record: ImageRecord): number {
  return record.layers.reduce((n, l) => n + l.size, 0);
}

export function childCounts(state: StoreState): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of Object.values(state.images)) if (r.parent) counts.set(r.parent, (counts.get(r.parent) ?? 0) + 1);
  return counts;
}

/** The store's description of an image, given its parsed config; `tags` defaults to all of its tags. */
export function describeImage(state: StoreState, id: string, config: ImageConfigFile, tags: string[] = tagsOf(state, id)): StoredImage {
  const record = state.images[id];
  const image: StoredImage = { id, tags, repoDigests: repoDigests(tags, record), config, size: imageSize(record) };
  if (record.parent !== undefined) image.parent = record.parent;
  if (record.lastTagTime !== undefined) image.lastTagTime = record.lastTagTime;
  return image;
}

/**
 * Resolves a reference as Docker's GetImage does: a full ID; then a name
 * (name@digest by repo digest, else name:tag); then an ID prefix.
 * ref: name[:tag] (tag defaults to latest; Docker's default domain and
 * "library/" normalised away), a full "sha256:<64hex>" ID, a unique ID
 * prefix (with or without "sha256:"), or name@sha256:<manifest digest>.
 */
export function resolveImage(state: StoreState, ref: string): ResolvedImage {
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

/**
 * The images a listing shows, with the tags it shows for each, as Docker's
 * `docker images` chooses them: untagged images with children
 * (intermediate) only with `all`; a reference filter keeps only images with
 * a matching tag and lists only those tags.
 */
export function selectImages(state: StoreState, options: SelectOptions = {}): Array<{ id: string; tags: string[] }> {
  const patterns = options.reference === undefined ? undefined : ([] as string[]).concat(options.reference);
  const children = childCounts(state);
  const out: Array<{ id: string; tags: string[] }> = [];
  for (const id of Object.keys(state.images)) {
    let tags = tagsOf(state, id);
    const tagged = tags.length > 0;
    if (patterns) tags = tags.filter((t) => patterns.some((p) => matchesReferencePattern(p, t)));
    if (tagged && tags.length === 0) continue; // tagged, but not as the filter asks
    if (!tagged) {
      if (patterns || options.dangling === false) continue;
      if (!options.all && !options.dangling && (children.get(id) ?? 0) > 0) continue; // intermediate
      if (options.dangling && (children.get(id) ?? 0) > 0) continue;
    } else if (options.dangling) continue;
    out.push({ id, tags });
  }
  return out;
}

/** Bytes of each image's layers that at least one other image also has (Docker's SharedSize). */
export function sharedSizes(state: StoreState): Map<string, number> {
  const layerUse = new Map<string, number>();
  for (const r of Object.values(state.images)) for (const l of r.layers) layerUse.set(l.digest, (layerUse.get(l.digest) ?? 0) + 1);
  return new Map(Object.entries(state.images).map(([id, r]) => [id, r.layers.filter((l) => (layerUse.get(l.digest) ?? 0) > 1).reduce((n, l) => n + l.size, 0)]));
}

/**
 * An image's history, newest step first. As Docker's classic store: the
 * newest step gets the image's ID, each older step the next ancestor's,
 * while local parents last; empty_layer steps have size 0.
 */
export function historySteps(state: StoreState, image: ResolvedImage, config: ImageConfigFile): HistoryStep[] {
  const steps: HistoryStep[] = [];
  let layer = 0;
  for (const h of config.history ?? []) {
    const size = h.empty_layer ? 0 : (image.record.layers[layer++]?.size ?? 0);
    steps.unshift({ created: h.created, createdBy: h.created_by ?? "", comment: h.comment ?? "", size });
  }
  let id: string | undefined = image.id;
  for (const step of steps) {
    if (!id || !state.images[id]) break;
    step.image = { id, tags: tagsOf(state, id) };
    id = state.images[id].parent;
  }
  return steps;
}

/** Points `target` (familiar name:tag) at the image `ref` names; a tag another image had moves. */
export function tagImage(state: StoreState, ref: string, target: string, now: string): void {
  const image = resolveImage(state, ref);
  state.tags[target] = image.id;
  image.record.lastTagTime = now;
}

/**
 * Which images (and under which tags) `docker save` writes, as Docker
 * chooses: "name:tag" that tag, a bare "name" every tag of that repository,
 * an ID the image without tags.
 */
export function saveSelection(state: StoreState, refs: string[]): Map<string, string[]> {
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
    const image = resolveImage(state, ref);
    add(image.id, image.tag);
  }
  return new Map([...chosen].map(([id, tags]) => [id, sortTags([...tags])]));
}

/**
 * The heart of `docker rmi` (moby daemon/images/image_delete.go), with
 * Docker's rules: a name removes that tag, and the image goes with its last
 * tag (unless children or a container keep it); an ID removes the image with
 * all its tags, which needs force when it has several. A container's image
 * is refused without force (a running one's by ID even with force); with
 * force it is untagged but kept, as the container still needs its layers.
 * Untagged parents left without children go too, unless noPrune.
 * Digests of blobs that removed images used are added to `doomed`; a refused
 * removal throws before changing the state.
 */
export function removeImage(state: StoreState, ref: string, options: RemoveOptions, doomed: Set<string>): ImageDeleteItem[] {
  const image = resolveImage(state, ref);
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

/**
 * `docker image prune`: dangling images (untagged, no children), or with
 * `all` every image no container uses. Images a conflict keeps are skipped.
 */
export function pruneImages(state: StoreState, options: { all?: boolean; inUse?: ImageInUse }, doomed: Set<string>): ImageDeleteItem[] {
  const children = childCounts(state);
  const candidates = Object.keys(state.images).filter((id) => {
    const tagged = tagsOf(state, id).length > 0;
    if (!tagged && (children.get(id) ?? 0) > 0) return false; // intermediate: goes with its child
    if (tagged && !options.all) return false;
    return !useOf(options.inUse, id);
  });
  const deleted: ImageDeleteItem[] = [];
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
  return deleted;
}

/** The doomed blob digests that no image left in the state uses: what a removal may delete. */
export function unusedBlobs(state: StoreState, doomed: Iterable<string>): string[] {
  const kept = new Set<string>();
  for (const [id, r] of Object.entries(state.images)) {
    kept.add(id);
    kept.add(r.manifest.digest);
    for (const l of r.layers) kept.add(l.digest);
  }
  return [...doomed].filter((digest) => !kept.has(digest));
}

/** index.json for the state: a descriptor per tag (annotated), a bare one per untagged image. */
export function renderIndex(state: StoreState): string {
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

function tryParse(ref: string): ImageReference | undefined {
  try {
    return parseReference(ref);
  } catch {
    return undefined;
  }
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
