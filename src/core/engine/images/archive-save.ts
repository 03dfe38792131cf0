import { createReadStream, promises as fs } from "node:fs";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { goJson, MEDIA_TYPE, type Descriptor } from "./image-config";
import { familiarString, fullString, parseReference, splitFamiliarTag } from "./image-reference";

/**
 * Writes a `docker save` archive in the layout Docker 25+ writes, which is
 * at once Docker's format and an OCI image layout:
 *
 *   blobs/sha256/<hex>   layers (plain tars, named by diffID), configs, manifests
 *   index.json           OCI index: one descriptor per tag, annotated with
 *                        io.containerd.image.name (full reference) and
 *                        org.opencontainers.image.ref.name (the tag); one
 *                        without annotations for an image saved by ID
 *   manifest.json        Docker's list: Config, RepoTags, Layers (paths into blobs/)
 *   oci-layout           {"imageLayoutVersion":"1.0.0"}
 *   repositories         legacy {name: {tag: <last layer hex>}}
 *
 * Members are written in name order with mtime 0, as Docker's archiver
 * does, so one image saves to the same bytes every time.
 */

export interface SavedImage {
  id: string;
  /** Familiar "name:tag" strings to record; empty when saved by ID. */
  tags: string[];
  configPath: string;
  configSize: number;
  manifestPath: string;
  manifestDigest: string;
  manifestSize: number;
  platform: { architecture: string; os: string; variant?: string };
  layers: Array<{ digest: string; size: number; path: string }>;
}

const EPOCH = new Date(0);

export async function writeImageArchive(images: SavedImage[], out: NodeJS.WritableStream): Promise<void> {
  const blobs = new Map<string, { path: string; size: number }>();
  const addBlob = (digest: string, path: string, size: number): void => {
    if (!blobs.has(digest)) blobs.set(digest, { path, size });
  };
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const descriptors: Descriptor[] = [];
  const repositories: Record<string, Record<string, string>> = {};

  for (const image of images) {
    addBlob(image.id, image.configPath, image.configSize);
    addBlob(image.manifestDigest, image.manifestPath, image.manifestSize);
    for (const layer of image.layers) addBlob(layer.digest, layer.path, layer.size);
    manifest.push({
      Config: blobPath(image.id),
      RepoTags: image.tags.length > 0 ? image.tags : null,
      Layers: image.layers.map((l) => blobPath(l.digest)),
    });
    const descriptor: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest: image.manifestDigest, size: image.manifestSize, platform: image.platform };
    if (image.tags.length === 0) descriptors.push(descriptor);
    for (const familiar of image.tags) {
      const ref = parseReference(familiar);
      descriptors.push({ ...descriptor, annotations: { "io.containerd.image.name": fullString(ref), "org.opencontainers.image.ref.name": ref.tag ?? "latest" } });
      const last = image.layers.at(-1);
      if (last) {
        const { repo, tag } = splitFamiliarTag(familiarString(ref));
        (repositories[repo] ??= {})[tag] = last.digest.slice("sha256:".length);
      }
    }
  }

  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: descriptors };
  const pack = tar.pack();
  // tar-stream's pack is a streamx Readable: Node's pipeline reads it, its typings do not say so.
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, out);
  writing.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
  try {
    await entry(pack, { name: "blobs/", type: "directory", mode: 0o755 });
    await entry(pack, { name: "blobs/sha256/", type: "directory", mode: 0o755 });
    for (const [digest, blob] of [...blobs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const size = (await fs.stat(blob.path)).size; // what is there now is what goes out, header and body alike
      const sink = pack.entry({ name: blobPath(digest), size, mode: 0o644, mtime: EPOCH });
      await pipeline(createReadStream(blob.path), sink as unknown as NodeJS.WritableStream);
    }
    await entry(pack, { name: "index.json", mode: 0o644 }, goJson(index));
    await entry(pack, { name: "manifest.json", mode: 0o644 }, `${goJson(manifest)}\n`);
    await entry(pack, { name: "oci-layout", mode: 0o644 }, goJson({ imageLayoutVersion: "1.0.0" }));
    if (Object.keys(repositories).length > 0) await entry(pack, { name: "repositories", mode: 0o644 }, `${goJson(repositories)}\n`);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await writing.catch(() => undefined);
    throw err;
  }
  await writing;
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice("sha256:".length)}`;
}

function entry(
  pack: tar.Pack,
  header: Omit<tar.Header, "size" | "mtime" | "type" | "linkname" | "uid" | "gid" | "uname" | "gname" | "devmajor" | "devminor"> & { type?: tar.Header["type"] },
  body?: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const bytes = body === undefined ? undefined : Buffer.from(body, "utf8");
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (bytes) pack.entry({ ...header, mtime: EPOCH }, bytes, done);
    else pack.entry({ ...header, mtime: EPOCH }, done);
  });
}
