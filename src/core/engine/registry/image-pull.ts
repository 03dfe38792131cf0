import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
import { shortId } from "../../docker/listing/image-groups";
import type { ImageStore, StoredImage } from "../images/image-store";
import { isObject } from "../images/image-config";
import { RegistryClient, RegistryError, sha256 } from "./registry-client";

/** A platform as images name theirs ("linux/386", "linux/arm/v7"). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** The embedded engine's guests are i686: what it pulls unless asked otherwise. */
export const ENGINE_PLATFORM: Platform = { os: "linux", architecture: "386" };

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.toLowerCase().split("/");
  if (!os || !architecture) throw new RegistryError(`"${text}" is not a platform (os/architecture[/variant], such as linux/386).`, undefined, 400);
  const arch = architecture === "i386" || architecture === "x86" ? "386" : architecture === "x86_64" ? "amd64" : architecture;
  return { os, architecture: arch, ...(variant ? { variant } : {}) };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** A pull's progress, as the docker CLI shows it (one line per layer, by its short ID). */
export interface PullProgress {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Platform;
}

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
/** Layers fetched at once (as dockerd's default max-concurrent-downloads is 3). */
const CONCURRENT_DOWNLOADS = 3;

/**
 * `docker pull`: the manifest (an index or manifest list chooses the
 * platform), the config and every layer the store lacks, each verified by
 * its digest as it arrives (gzip, zstd or plain tar), and the image stored
 * under `tag`. Returns the image and the manifest digest it is known by.
 */
export async function pullImage(
  client: RegistryClient,
  o: { repository: string; reference: string; tag?: string; platform?: Platform; store: ImageStore; onProgress(p: PullProgress): void },
): Promise<{ image: StoredImage; digest: string; existed: boolean }> {
  const wanted = o.platform ?? ENGINE_PLATFORM;
  let manifest = await client.manifest(o.repository, o.reference);
  let parsed = parseJson(manifest.bytes, "manifest");
  if (INDEX_TYPES.has(manifest.mediaType) || Array.isArray(parsed.manifests)) {
    const entries = (parsed.manifests as Descriptor[] | undefined) ?? [];
    const chosen = entries.find((m) => m.platform && matches(m.platform, wanted));
    if (!chosen) {
      const offered = entries.filter((m) => m.platform && m.platform.os !== "unknown").map((m) => platformString(m.platform!));
      throw new RegistryError(
        `no matching manifest for ${platformString(wanted)} in the manifest list entries of ${o.repository}:${o.reference} (it has ${offered.join(", ") || "none"})`,
        wanted === ENGINE_PLATFORM ? "Hangar's embedded engine runs linux/386 (i686) guests: use an image built for linux/386, or a Docker endpoint that runs the others." : undefined,
        404,
      );
    }
    manifest = await client.manifest(o.repository, chosen.digest);
    parsed = parseJson(manifest.bytes, "manifest");
  }
  const configDesc = parsed.config as Descriptor | undefined;
  const layerDescs = (parsed.layers as Descriptor[] | undefined) ?? [];
  if (!configDesc?.digest || !Array.isArray(parsed.layers))
    throw new RegistryError(`The manifest of ${o.repository}:${o.reference} (${manifest.mediaType || "no media type"}) is not an image manifest Hangar can pull.`);
  o.onProgress({ status: `${o.reference.startsWith("sha256:") ? "" : `${o.reference}: `}Pulling from ${o.repository}` });

  const configBytes = await readAll((await client.blob(o.repository, configDesc.digest)).stream);
  if (sha256(configBytes) !== configDesc.digest)
    throw new RegistryError(`The config blob of ${o.repository} does not match its digest ${configDesc.digest}.`, "Try again; if it persists, the registry is serving corrupt data.");
  const config = parseJson(configBytes, "config");
  const platform: Platform = { os: String(config.os ?? ""), architecture: String(config.architecture ?? "") };
  if (!matches(platform, wanted))
    throw new RegistryError(
      `The image ${o.repository}:${o.reference} is for ${platformString(platform)}, not ${platformString(wanted)}.`,
      wanted === ENGINE_PLATFORM ? "Hangar's embedded engine runs linux/386 (i686) guests: use an image built for linux/386." : undefined,
      404,
    );
  const diffIds = ((config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []).slice();
  if (diffIds.length !== layerDescs.length) throw new RegistryError(`The image ${o.repository}:${o.reference} lists ${layerDescs.length} layers but its config ${diffIds.length}.`);

  // As dockerd says: "up to date" when the tag already named this image, "newer" otherwise.
  const before = o.tag
    ? await o.store.image(o.tag).then(
        (i) => i.id,
        () => undefined,
      )
    : undefined;
  const image = await o.store.addFetched({
    configBytes,
    tags: o.tag ? [o.tag] : [],
    repository: o.repository,
    registryDigest: manifest.digest,
    fetchLayers: async (stage, have) => {
      const out: Array<{ digest: string; staged?: Awaited<ReturnType<typeof stage>> }> = new Array(layerDescs.length);
      const queue = layerDescs.map((d, i) => ({ d, i }));
      for (const { d } of queue) o.onProgress({ status: "Pulling fs layer", id: shortId(d.digest) });
      const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const { d, i } = next;
          const id = shortId(d.digest);
          if (await have(diffIds[i])) {
            o.onProgress({ status: "Already exists", id });
            out[i] = { digest: diffIds[i] };
            continue;
          }
          const { stream } = await client.blob(o.repository, d.digest);
          let received = 0;
          let lastReport = 0;
          const compressed = createHash("sha256");
          const counter = new Transform({
            transform(chunk: Buffer, _enc, done) {
              compressed.update(chunk);
              received += chunk.length;
              if (received - lastReport > 256 * 1024 || received === d.size) {
                lastReport = received;
                o.onProgress({ status: "Downloading", id, progressDetail: { current: received, total: d.size } });
              }
              done(null, chunk);
            },
          });
          const unpack = decompressor(d.mediaType ?? "");
          // .pipe does not pass errors on: a broken download must fail the staging, not leave it waiting.
          for (const s of [stream, counter]) s.once("error", (err) => unpack.destroy(err));
          const staged = await stage(stream.pipe(counter).pipe(unpack));
          if (`sha256:${compressed.digest("hex")}` !== d.digest)
            throw new RegistryError(`A layer of ${o.repository} does not match its digest ${d.digest}.`, "Try again; if it persists, the registry is serving corrupt data.");
          if (staged.digest !== diffIds[i]) throw new RegistryError(`A layer of ${o.repository} unpacks to ${staged.digest}, not the ${diffIds[i]} its config names.`);
          o.onProgress({ status: "Verifying Checksum", id });
          o.onProgress({ status: "Download complete", id });
          o.onProgress({ status: "Pull complete", id });
          out[i] = { digest: diffIds[i], staged };
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENT_DOWNLOADS, queue.length) }, worker));
      return out;
    },
  });
  return { image, digest: manifest.digest, existed: o.tag ? before === image.id : true };
}

function matches(p: Platform, wanted: Platform): boolean {
  return p.os === wanted.os && p.architecture === wanted.architecture && (!wanted.variant || p.variant === wanted.variant);
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(bytes.toString("utf8")) as unknown;
    if (isObject(v)) return v;
  } catch {
    // said below
  }
  throw new RegistryError(`The registry sent a ${what} that is not a JSON object.`);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The layer's media type says how it is compressed: gzip (Docker's and OCI's +gzip), zstd, or none. */
function decompressor(mediaType: string): Transform {
  if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return zstdStream();
  if (mediaType.endsWith("gzip")) return createGunzip();
  if (mediaType.endsWith(".tar") || mediaType.endsWith("+tar")) return new Transform({ transform: (c, _e, done) => done(null, c) });
  throw new RegistryError(`Layers of type ${mediaType || "(none)"} cannot be pulled (only tar, tar+gzip and tar+zstd).`);
}

function zstdStream(): Transform {
  const z = new ZstdDecompress((data) => t.push(Buffer.from(data)));
  const t: Transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        z.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        z.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  return t;
}
