import { createReadStream } from "node:fs";
import { Transform } from "node:stream";
import { shortId } from "../../docker/listing/image-groups";
import type { ImageStore } from "../images/image-store";
import type { RegistryClient } from "./registry-client";
import type { PullProgress } from "./image-pull";

/**
 * `docker push` of one tag: each blob the registry lacks is uploaded (a
 * layer another repository of the same registry holds is mounted from it
 * instead), then the manifest. The store's own manifest is sent as it is
 * (OCI, uncompressed layers), so the digest the registry answers with is
 * the image's RepoDigest here and after a pull elsewhere.
 */
export async function pushImage(
  client: RegistryClient,
  o: { store: ImageStore; ref: string; repository: string; tag: string; mountFrom?: string[]; storeRepository: string; onProgress(p: PullProgress): void },
): Promise<{ digest: string; size: number }> {
  const pushed = await o.store.pushSource(o.ref, async (image) => {
    for (const l of image.layers) o.onProgress({ status: "Preparing", id: shortId(l.digest) });
    const blobs = [...image.layers.map((l) => ({ ...l, layer: true })), { digest: image.id, size: image.configSize, path: image.configPath, layer: false }];
    for (const b of blobs) {
      const id = shortId(b.digest);
      if (await client.hasBlob(o.repository, b.digest)) {
        if (b.layer) o.onProgress({ status: "Layer already exists", id });
        continue;
      }
      let mounted = false;
      for (const from of o.mountFrom ?? []) {
        if (from === o.repository) continue;
        if (await client.mountBlob(o.repository, b.digest, from).catch(() => false)) {
          mounted = true;
          if (b.layer) o.onProgress({ status: `Mounted from ${from}`, id });
          break;
        }
      }
      if (mounted) continue;
      await client.uploadBlob(o.repository, b.digest, b.size, () => {
        let sent = 0;
        let last = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            sent += chunk.length;
            if (b.layer && (sent - last > 256 * 1024 || sent === b.size)) {
              last = sent;
              o.onProgress({ status: "Pushing", id, progressDetail: { current: sent, total: b.size } });
            }
            done(null, chunk);
          },
        });
        return createReadStream(b.path).pipe(counter);
      });
      if (b.layer) o.onProgress({ status: "Pushed", id });
    }
    const digest = await client.putManifest(o.repository, o.tag, image.manifest, "application/vnd.oci.image.manifest.v1+json");
    return { id: image.id, digest, size: image.manifest.length };
  });
  await o.store.noteRegistryDigest(pushed.id, o.storeRepository, pushed.digest);
  return { digest: pushed.digest, size: pushed.size };
}
