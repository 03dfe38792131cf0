import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { defaultDomain, parseReference } from "../engine/images/image-reference";
import { insecureRegistries, RegistryClient, RegistryError, registryOf, sha256 } from "../engine/registry/registry-client";
import { credentialsFromDockerConfig } from "../engine/registry/registry-credentials";
import { CancelledError, HangarError } from "../util/errors";
import { addBox } from "./box-archive";
import type { BoxEntry } from "./box-store";

/**
 * Boxes in OCI registries (Vagrant's public box hosting is closing): a box
 * is an artifact whose config says what it is (name, version, provider, its
 * metadata.json) and whose layers are its files, each titled with its path
 * in the box (the `org.opencontainers.image.title` annotation, as ORAS
 * stores files). Any registry that keeps OCI artifacts keeps boxes; the
 * docker CLI's stored logins are used.
 */
export const BOX_ARTIFACT_TYPE = "application/vnd.hangar.box.v1";
export const BOX_CONFIG_TYPE = "application/vnd.hangar.box.config.v1+json";
export const BOX_FILE_TYPE = "application/vnd.hangar.box.file.v1";
const TITLE = "org.opencontainers.image.title";

interface BoxConfig {
  name: string;
  version: string;
  provider: string;
  metadata: unknown;
}

/** A box reference: "host:port/path[:tag]"; without a tag, `fallbackTag`. */
async function target(ref: string, env: NodeJS.ProcessEnv, fallbackTag: string): Promise<{ client: RegistryClient; repository: string; reference: string; shown: string }> {
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (err) {
    throw new HangarError(`${ref} is not a registry reference: ${(err as Error).message}.`, "Write it as host[:port]/path[:tag], e.g. localhost:5000/boxes/debian:1.0.");
  }
  const where = registryOf(parsed.name, defaultDomain(env));
  if (!where) throw new HangarError(`${ref} names no registry.`, "Write it as host[:port]/path[:tag], e.g. localhost:5000/boxes/debian:1.0.");
  const reference = parsed.digest ?? parsed.tag ?? fallbackTag;
  const client = new RegistryClient({ domain: where.domain, credentials: await credentialsFromDockerConfig(where.domain, env), insecure: insecureRegistries(env) });
  return { client, repository: where.repository, reference, shown: `${where.domain}/${where.repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}` };
}

/** The files of a box folder, as paths relative to it; the booted-state caches (made again on first boot) stay home. */
async function boxFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await boxFiles(dir, p)));
    else if (e.isFile() && !/^booted-.*\.state$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** `hangar box push`: every file a blob (those the registry has are not sent again), then the manifest; returns its digest. */
export async function pushBox(box: BoxEntry, ref: string, o: { env?: NodeJS.ProcessEnv; onProgress?(line: string): void } = {}): Promise<{ digest: string; shown: string }> {
  const { client, repository, reference, shown } = await target(ref, o.env ?? process.env, box.version);
  const layers: Array<{ mediaType: string; digest: string; size: number; annotations: Record<string, string> }> = [];
  for (const file of await boxFiles(box.path)) {
    const full = path.join(box.path, file);
    const size = (await fs.stat(full)).size;
    const digest = await fileDigest(full);
    if (await client.hasBlob(repository, digest)) o.onProgress?.(`${file}: already in the registry`);
    else {
      o.onProgress?.(`${file}: uploading ${formatSize(size)}`);
      await client.uploadBlob(repository, digest, size, () => createReadStream(full));
    }
    layers.push({ mediaType: BOX_FILE_TYPE, digest, size, annotations: { [TITLE]: file } });
  }
  const config: BoxConfig = { name: box.name, version: box.version, provider: box.provider, metadata: JSON.parse(await fs.readFile(path.join(box.path, "metadata.json"), "utf8")) };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  if (!(await client.hasBlob(repository, configDigest))) await client.uploadBlob(repository, configDigest, configBytes.length, () => Readable.from([configBytes]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: BOX_ARTIFACT_TYPE,
      config: { mediaType: BOX_CONFIG_TYPE, digest: configDigest, size: configBytes.length },
      layers,
      annotations: { "org.opencontainers.image.version": box.version },
    }),
  );
  const digest = await client.putManifest(repository, reference.startsWith("sha256:") ? box.version : reference, manifest, "application/vnd.oci.image.manifest.v1+json");
  return { digest, shown };
}

/**
 * `hangar box pull`: the artifact's files, each checked against its digest,
 * into a temporary folder, then added as a box (name and version from the
 * artifact unless given). A title that would lead out of the box folder, or
 * an artifact that is not a box, is refused and adds nothing.
 */
export async function pullBox(
  hangarHome: string,
  ref: string,
  o: {
    name?: string;
    version?: string;
    force?: boolean;
    env?: NodeJS.ProcessEnv;
    onProgress?(line: string): void;
    /** Cancels until the box is moved into place: the downloaded files are removed and nothing is added. */
    signal?: AbortSignal;
  } = {},
): Promise<{ name: string; version: string; dest: string; shown: string }> {
  const { client, repository, reference, shown } = await target(ref, o.env ?? process.env, "latest");
  const cancelled = (): CancelledError => new CancelledError(`Adding a box from ${shown} was cancelled; nothing was added.`);
  const manifest = JSON.parse((await client.manifest(repository, reference)).bytes.toString("utf8")) as {
    artifactType?: string;
    config?: { mediaType?: string; digest: string };
    layers?: Array<{ digest: string; size: number; annotations?: Record<string, string> }>;
  };
  if (manifest.config?.mediaType !== BOX_CONFIG_TYPE)
    throw new HangarError(
      `${shown} is not a Hangar box (its config is ${manifest.config?.mediaType ?? "missing"}).`,
      "Push boxes with `hangar box push`; container images are pulled with docker pull.",
    );
  const configBytes = await readAll(client, repository, manifest.config.digest);
  const config = JSON.parse(configBytes.toString("utf8")) as BoxConfig;
  const files = (manifest.layers ?? []).map((l) => ({ ...l, title: l.annotations?.[TITLE] ?? "" }));
  for (const f of files) {
    const normal = path.posix.normalize(f.title);
    if (!f.title || normal !== f.title || normal.startsWith("../") || normal === ".." || path.posix.isAbsolute(normal) || f.title.includes("\\") || f.title.includes("\0"))
      throw new HangarError(`${shown} names a file "${f.title}" outside the box; refusing it. Nothing was added.`);
  }
  if (new Set(files.map((f) => f.title)).size !== files.length) throw new HangarError(`${shown} names one file twice; refusing it. Nothing was added.`);
  const staging = path.join(hangarHome, "boxes", `.pull-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(staging, { recursive: true });
  try {
    for (const f of files) {
      if (o.signal?.aborted) throw cancelled();
      o.onProgress?.(`${f.title}: downloading ${formatSize(f.size)}`);
      const dest = path.join(staging, f.title);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      const hash = createHash("sha256");
      const { stream } = await client.blob(repository, f.digest);
      await pipeline(stream, new Transform({ transform: (c: Buffer, _e, done) => (hash.update(c), done(null, c)) }), createWriteStream(dest, { flags: "wx" }), {
        signal: o.signal ?? new AbortController().signal,
      }).catch((err: unknown) => Promise.reject(o.signal?.aborted ? cancelled() : err));
      if (`sha256:${hash.digest("hex")}` !== f.digest)
        throw new RegistryError(`${f.title} from ${shown} does not match its digest ${f.digest}; nothing was added.`, "Try again; if it persists, the registry is serving corrupt data.");
    }
    const name = o.name ?? config.name;
    const version = o.version ?? config.version ?? "0";
    const dest = await addBox(hangarHome, staging, name, version, o.force ?? false, o.signal);
    return { name, version, dest, shown };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

async function readAll(client: RegistryClient, repository: string, digest: string): Promise<Buffer> {
  const { stream } = await client.blob(repository, digest);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  if (sha256(bytes) !== digest) throw new RegistryError(`The box's config from ${client.domain} does not match its digest ${digest}.`);
  return bytes;
}

function formatSize(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
