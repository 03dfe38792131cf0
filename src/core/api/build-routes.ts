import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { createGunzip } from "node:zlib";
import { PassThrough } from "node:stream";
import { buildImage } from "../engine/build/dockerfile-builder";
import { engineRunStep } from "../engine/build/engine-run-step";
import { applyLayer } from "../engine/images/layer-apply";
import type * as http from "node:http";
import { familiarName, parseReference } from "../engine/images/image-reference";
import { pullImage } from "../engine/registry/image-pull";
import { insecureRegistries, RegistryClient, registryOf } from "../engine/registry/registry-client";
import { credentialsFromConfigHeader, credentialsFromDockerConfig } from "../engine/registry/registry-credentials";
import { BadParameterError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { queryBool } from "./api-request";
import { JsonMessageStream } from "./api-response";
import type { EngineContext } from "./engine-context";

/**
 * `POST /build`, the legacy builder's protocol (DOCKER_BUILDKIT=0): the body
 * is the context as a tar (gzip allowed), unpacked into a temporary folder
 * with the same confinement as image layers; the answer is Docker's JSON
 * stream of "Step N/M" lines, then {"aux":{"ID"}} and "Successfully built".
 */
/**
 * FROM an image the store lacks: pulled from its registry, with the
 * credentials docker build sends (X-Registry-Config: base64 JSON of
 * registry → AuthConfig), else the docker CLI's stored ones. Undefined when
 * the name has no registry to pull from.
 */
async function pullForBuild(engine: EngineContext, req: http.IncomingMessage, text: string, say: (line: string) => void): Promise<string | undefined> {
  const ref = parseReference(text);
  const target = registryOf(ref.name, engine.registry.known);
  if (!target) return undefined;
  // An unreadable header leaves the stored credentials.
  const header = req.headers["x-registry-config"];
  const credentials = credentialsFromConfigHeader(typeof header === "string" ? header : undefined, target.domain) ?? (await credentialsFromDockerConfig(target.domain, engine.env));
  const client = new RegistryClient({ domain: target.domain, credentials, insecure: insecureRegistries(engine.env) });
  const tag = ref.digest ? undefined : (ref.tag ?? "latest");
  const familiar = familiarName(ref.name);
  say(`Pulling ${familiar}${tag ? `:${tag}` : `@${ref.digest}`} from ${target.domain}`);
  const { image, digest } = await pullImage(client, {
    repository: target.repository,
    reference: ref.digest ?? tag ?? "latest",
    tag: tag ? `${familiar}:${tag}` : undefined,
    store: engine.images,
    onProgress: () => undefined,
  });
  say(`Digest: ${digest}`);
  return image.id;
}

export function addBuildRoutes(router: ApiRouter, engine: EngineContext): void {
  router.post("/build", async ({ req, res, query }) => {
    if (query.get("version") === "2") throw new BadParameterError("Hangar's engine has the classic builder only: set DOCKER_BUILDKIT=0 (or use `docker builder build`).");
    let buildArgs: Record<string, string> = {};
    try {
      const raw = query.get("buildargs");
      if (raw) buildArgs = JSON.parse(raw) as Record<string, string>;
    } catch {
      throw new BadParameterError("buildargs is not a JSON object of names to values.");
    }
    // docker build --network: RUN steps on the default bridge, or with loopback only.
    const networkMode = query.get("networkmode") || "default";
    if (!["default", "bridge", "none"].includes(networkMode)) throw new BadParameterError(`network mode "${networkMode}" is not supported for builds: use default, bridge or none`);
    const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-build-context-"));
    const out = new JsonMessageStream(res);
    let failed: unknown;
    try {
      const gzip = (req.headers["content-type"] ?? "").includes("gzip");
      const body = gzip ? req.pipe(createGunzip()) : req.pipe(new PassThrough());
      // A context is files, not a layer: a `.wh.name` file in it is copied as it is, not a deletion.
      await applyLayer(body, dir, { label: "The build context", whiteouts: false }).catch((err: unknown) => {
        throw new BadParameterError(`The build context could not be unpacked: ${err instanceof Error ? err.message : String(err)}`, "Send the context as docker build does: a tar of the folder.");
      });
      const quiet = queryBool(query, "q");
      const { imageId } = await buildImage({
        contextDir: dir,
        dockerfile: query.get("dockerfile") || undefined,
        tags: query.getAll("t"),
        buildArgs,
        noCache: queryBool(query, "nocache"),
        target: query.get("target") || undefined,
        platform: query.get("platform") || undefined,
        store: engine.images,
        hangarHome: engine.hangarHome,
        runStep: engineRunStep(engine.machine, engine.networks, networkMode === "none" ? "none" : "bridge"),
        pull: (ref) => pullForBuild(engine, req, ref, (line) => !quiet && out.write({ stream: `${line}\n` })),
        onStream: (line) => {
          if (!quiet) out.write({ stream: `${line}\n` });
        },
      });
      out.write({ aux: { ID: imageId } });
      for (const tag of query.getAll("t")) engine.events.publish("image", "tag", imageId, { name: tag });
      if (quiet) out.write({ stream: `${imageId}\n` });
    } catch (err) {
      req.resume();
      // Before the stream began, the error gets its own status; after, it travels in the stream.
      if (!out.started) failed = err;
      else out.error(err);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (failed !== undefined) throw failed;
    out.end();
  });
}
