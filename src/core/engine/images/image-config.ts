import { ImageArchiveError } from "./image-errors";

/**
 * The image config blob (OCI image-spec "config", which Docker's
 * application/vnd.docker.container.image.v1+json also is) and the manifest
 * that points at it. An image's ID is the sha256 of its config bytes, so the
 * bytes of a loaded config are kept exactly as they came, and configs made
 * here are serialised one fixed way (`serializeImageConfig`).
 */

/** The `config` section: how a container from the image runs (Docker's container.Config subset an image carries). */
export interface ImageContainerConfig {
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  StopSignal?: string;
  Shell?: string[];
  OnBuild?: string[] | null;
  Healthcheck?: unknown;
  ArgsEscaped?: boolean;
}

export interface ImageHistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The config JSON, as far as the store reads it; other fields pass through untouched. */
export interface ImageConfigFile {
  created?: string;
  author?: string;
  /** Absent in some hand-made configs; Docker then assumes the host's. */
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ImageContainerConfig | null;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: ImageHistoryEntry[];
  comment?: string;
  docker_version?: string;
}

export const MEDIA_TYPE = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * JSON as Go's encoding/json writes it (what Docker and BuildKit hash):
 * compact, with <, >, & and the JS line separators escaped. Those characters
 * occur only inside strings, so escaping them after stringify is safe.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Orders an object's keys: `order` first (those present), then the rest as they came. */
function ordered<T extends object>(obj: T, order: readonly string[]): T {
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of order) if (src[k] !== undefined) out[k] = src[k];
  for (const [k, v] of Object.entries(src)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as T;
}

// Field orders of BuildKit's image config structs (dockerspec.DockerOCIImage
// and its config, ocispec.History), so a config made here reads like one
// `docker build` writes.
const TOP_ORDER = ["created", "author", "architecture", "os", "os.version", "os.features", "variant", "config", "rootfs", "history", "comment"];
const CONFIG_ORDER = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"];
const HISTORY_ORDER = ["created", "created_by", "author", "comment", "empty_layer"];

/** The canonical bytes of a config made by this store: same input, same bytes, same image ID. */
export function serializeImageConfig(config: ImageConfigFile): Buffer {
  const value = ordered(
    {
      ...config,
      config: config.config && ordered(config.config, CONFIG_ORDER),
      rootfs: { type: "layers", diff_ids: config.rootfs.diff_ids },
      history: config.history?.map((h) => ordered(h, HISTORY_ORDER)),
    },
    TOP_ORDER,
  );
  return Buffer.from(goJson(value), "utf8");
}

/** The manifest this store keeps for an image: uncompressed layers, so a layer's digest is its diffID. */
export function makeManifest(configDigest: string, configSize: number, layers: Array<{ digest: string; size: number }>): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPE.ociLayer, digest: l.digest, size: l.size })),
  };
  return Buffer.from(goJson(manifest), "utf8");
}

/** Go's time.RFC3339Nano: fraction only when non-zero, trailing zeros dropped. */
export function formatGoTime(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

/** Seconds since the epoch of an RFC 3339 time, 0 when absent or unreadable (as Docker reports a missing time). */
export function unixSeconds(time: string | undefined): number {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/**
 * Reads and checks a config blob: an object with `rootfs.type` "layers" and
 * sha256 diff_ids, string architecture/os, and history (if any) whose
 * non-empty entries do not outnumber the layers. `label` names it in errors.
 */
export function parseImageConfig(bytes: Uint8Array, label: string): ImageConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new ImageArchiveError(`${label} is not valid JSON (${(err as Error).message}).`, "The archive is damaged; save the image again.");
  }
  const bad = (why: string): ImageArchiveError => new ImageArchiveError(`${label} is not an image config: ${why}.`, "The archive is damaged or not an image archive.");
  if (!isObject(value)) throw bad("it is not a JSON object");
  const rootfs = value.rootfs;
  if (!isObject(rootfs) || rootfs.type !== "layers" || !Array.isArray(rootfs.diff_ids)) throw bad('it has no rootfs of type "layers" with diff_ids');
  for (const id of rootfs.diff_ids) if (typeof id !== "string" || !DIGEST_PATTERN.test(id)) throw bad(`its diff_ids hold "${String(id)}", which is not a sha256 digest`);
  if (value.architecture !== undefined && typeof value.architecture !== "string") throw bad("architecture is not a string");
  if (value.os !== undefined && typeof value.os !== "string") throw bad("os is not a string");
  if (value.config !== undefined && value.config !== null && !isObject(value.config)) throw bad("config is not an object");
  if (value.history !== undefined && value.history !== null) {
    if (!Array.isArray(value.history) || !value.history.every(isObject)) throw bad("history is not a list of objects");
    const nonEmpty = value.history.filter((h) => !(h as ImageHistoryEntry).empty_layer).length;
    if (nonEmpty > rootfs.diff_ids.length) throw bad(`its history names ${nonEmpty} layers but rootfs has ${rootfs.diff_ids.length}`);
  }
  return value as unknown as ImageConfigFile;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
