// The registry client and pull against a fake registry, for faults a real
// registry does not produce on demand (the system test drives a real one):
// 429/503 answers, a blob redirected to another host, a blob or manifest
// that does not match its digest, a zstd layer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { pullImage } from "../../../../../src/core/engine/registry/image-pull";
import { RegistryClient } from "../../../../../src/core/engine/registry/registry-client";

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
async function serve(handler: Handler): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-registry-faults-"));
});
after(async () => {
  for (const s of servers) s.close();
  await rm(dir, { recursive: true, force: true });
});

/** One image: a layer (any bytes: the store does not unpack it), its config and manifest, served as `compress` says. */
function image(layerText: string, compress: "gzip" | "zstd") {
  const raw = Buffer.from(layerText.padEnd(2048, "."));
  const blob = compress === "gzip" ? gzipSync(raw) : execFileSync("zstd", ["-q", "-c"], { input: raw });
  const config = Buffer.from(JSON.stringify({ architecture: "386", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [digestOf(raw)] }, history: [{ created_by: "test" }] }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digestOf(config), size: config.length },
      layers: [{ mediaType: `application/vnd.oci.image.layer.v1.tar+${compress}`, digest: digestOf(blob), size: blob.length }],
    }),
  );
  return {
    raw,
    blob,
    config,
    manifest,
    blobs: new Map([
      [digestOf(blob), blob],
      [digestOf(config), config],
    ]),
  };
}

const noWait = { retryDelay: () => 1 };

test("fake registry (429 and 503 on demand): answers are retried until the registry serves, then a zstd layer is pulled and stored by its diff ID", async () => {
  const img = image("zstd layer", "zstd");
  let busy = 3;
  const domain = await serve((req, res) => {
    if (busy-- > 0) return void res.writeHead(busy % 2 ? 429 : 503, { "Retry-After": "0" }).end();
    if (req.url?.includes("/manifests/")) return void res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(img.manifest);
    const blob = img.blobs.get(req.url!.split("/blobs/")[1]);
    res.writeHead(blob ? 200 : 404).end(blob);
  });
  const store = await ImageStore.open(path.join(dir, "store-zstd"));
  const { image: stored } = await pullImage(new RegistryClient({ domain, ...noWait }), { repository: "app", reference: "1", tag: "app:1", store, onProgress: () => undefined });
  assert.deepEqual(stored.config.rootfs.diff_ids, [digestOf(img.raw)]);
  assert.deepEqual(await store.layerFiles("app:1").then((f) => f.length), 1);
});

test("fake registry (a redirect to another host): the blob is fetched there without the registry's credentials", async () => {
  const img = image("redirected layer", "gzip");
  const storageSaw: Array<string | undefined> = [];
  const storage = await serve((req, res) => {
    storageSaw.push(req.headers.authorization);
    res.writeHead(200).end(img.blobs.get(req.url!.slice(1)));
  });
  const domain = await serve((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) return void res.writeHead(401, { "WWW-Authenticate": 'Basic realm="fake"' }).end();
    if (req.url?.includes("/manifests/")) return void res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(img.manifest);
    res.writeHead(307, { Location: `http://${storage}/${req.url!.split("/blobs/")[1]}` }).end();
  });
  const store = await ImageStore.open(path.join(dir, "store-redirect"));
  await pullImage(new RegistryClient({ domain, credentials: { username: "u", password: "p" }, ...noWait }), { repository: "app", reference: "1", tag: "app:1", store, onProgress: () => undefined });
  assert.equal(storageSaw.length, 2, "config and layer from storage");
  assert.deepEqual(storageSaw, [undefined, undefined]);
});

test("fake registry (corrupt data): a layer or manifest that does not match its digest is refused and nothing is stored", async () => {
  const img = image("the real layer", "gzip");
  const bad = gzipSync(Buffer.from("something else".padEnd(2048, ".")));
  const domain = await serve((req, res) => {
    if (req.url?.endsWith("/manifests/1")) return void res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(img.manifest);
    if (req.url?.includes("/manifests/sha256:")) return void res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(Buffer.concat([img.manifest, Buffer.from(" ")]));
    const digest = req.url!.split("/blobs/")[1];
    res.writeHead(200).end(digest === digestOf(img.config) ? img.config : bad);
  });
  const store = await ImageStore.open(path.join(dir, "store-corrupt"));
  const pull = (reference: string) => pullImage(new RegistryClient({ domain, ...noWait }), { repository: "app", reference, tag: "app:1", store, onProgress: () => undefined });
  await assert.rejects(pull("1"), /does not match its digest/);
  await assert.rejects(pull(digestOf(img.manifest)), /whose digest is/);
  assert.deepEqual(await store.list({ all: true }), []);
});
