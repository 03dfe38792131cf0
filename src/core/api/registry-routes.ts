import type * as http from "node:http";
import { familiarName, parseReference, splitFamiliarTag, type ImageReference } from "../engine/images/image-reference";
import { pullImage, parsePlatform } from "../engine/registry/image-pull";
import { pushImage } from "../engine/registry/image-push";
import { insecureRegistries, RegistryClient, RegistryError, registryOf } from "../engine/registry/registry-client";
import { credentialsFromAuthBody, credentialsFromDockerConfig, credentialsFromHeader, type RegistryCredentials } from "../engine/registry/registry-credentials";
import { BadParameterError, NotFoundError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { readJsonBody } from "./api-request";
import { JsonMessageStream, sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";

/** A client for a domain with the request's credentials (X-Registry-Auth), else the docker CLI's stored ones. */
export async function registryClient(engine: EngineContext, domain: string, req: http.IncomingMessage, signal?: AbortSignal): Promise<RegistryClient> {
  const header = req.headers["x-registry-auth"];
  const credentials: RegistryCredentials | undefined = credentialsFromHeader(Array.isArray(header) ? header[0] : header) ?? (await credentialsFromDockerConfig(domain, engine.env));
  return new RegistryClient({ domain, credentials, insecure: insecureRegistries(engine.env), signal });
}

/**
 * `docker pull` from a registry (the built-in images are the image routes'
 * part): Docker's JSON progress stream, then the digest and status lines.
 */
export async function pullFromRegistry(engine: EngineContext, req: http.IncomingMessage, res: http.ServerResponse, ref: ImageReference, platformText: string | null): Promise<void> {
  const target = registryOf(ref.name, engine.registry.known);
  const familiar = familiarName(ref.name);
  if (!target)
    throw new NotFoundError(
      `Hangar's engine cannot pull ${familiar}: the name has no registry, and no default registry is known.`,
      "Name the registry (host:5000/app), or set HANGAR_DEFAULT_REGISTRY; images can also come from `docker load`.",
    );
  const platform = platformText ? parsePlatform(platformText) : undefined;
  const out = new JsonMessageStream(res);
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const client = await registryClient(engine, target.domain, req, abort.signal);
  const tag = ref.tag ?? (ref.digest ? undefined : "latest");
  try {
    const { image, digest, existed } = await pullImage(client, {
      repository: target.repository,
      reference: ref.digest ?? tag ?? "latest",
      tag: tag ? `${familiar}:${tag}` : undefined,
      platform,
      store: engine.images,
      onProgress: (p) => out.write(p),
    });
    out.write({ status: `Digest: ${digest}` });
    const shown = tag ? `${familiar}:${tag}` : `${familiar}@${digest}`;
    out.write({ status: existed ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` });
    engine.events.publish("image", "pull", shown, { ...(image.config.config?.Labels ?? {}), name: shown });
  } catch (caught) {
    // As dockerd: a 404, not a 401, so the docker CLI says it instead of asking for credentials on the terminal.
    const err =
      caught instanceof RegistryError && (caught.status === 401 || caught.status === 403)
        ? new RegistryError(`pull access denied for ${familiar}, repository does not exist or may require 'docker login': ${caught.message}`, undefined, 404)
        : caught;
    // Before any progress (the registry unreachable, the image or tag unknown) the error gets its own status, as dockerd's.
    if (!out.started) throw err;
    out.error(err);
  }
  out.end();
}

export function addRegistryRoutes(router: ApiRouter, engine: EngineContext): void {
  const { images, registry } = engine;

  // `docker push`: the tag given, or every tag of the repository.
  router.post("/images/{name*}/push", async ({ req, res, params, query }) => {
    const name = await registry.fromClient(params.name, false);
    const ref = parseReference(name);
    if (ref.digest) throw new BadParameterError("Push a tag, not a digest.");
    const familiar = familiarName(ref.name);
    const target = registryOf(ref.name, registry.known);
    if (!target)
      throw new NotFoundError(
        `Hangar's engine cannot push ${familiar}: the name has no registry, and no default registry is known.`,
        `Tag it with a registry first: docker tag ${familiar} host:5000/${familiar}`,
      );
    const tagParam = query.get("tag") || ref.tag;
    const all = (await images.list({ all: true })).flatMap((i) => i.tags).filter((t) => splitFamiliarTag(t).repo === familiar);
    const tags = tagParam ? [`${familiar}:${tagParam}`] : all;
    if (tags.length === 0 || (tagParam && !all.includes(tags[0]))) throw new NotFoundError(`An image does not exist locally with the tag: ${familiar}${tagParam ? `:${tagParam}` : ""}`);
    const out = new JsonMessageStream(res);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    try {
      const client = await registryClient(engine, target.domain, req, abort.signal);
      out.write({ status: `The push refers to repository [${target.domain}/${target.repository}]` });
      // Layers the registry holds under another repository this store pushed to can be mounted instead of sent.
      const others = (await images.list({ all: true }))
        .flatMap((i) => i.tags.map((t) => registryOf(parseReference(t).name, registry.known)))
        .filter((t): t is { domain: string; repository: string } => !!t && t.domain === target.domain && t.repository !== target.repository)
        .map((t) => t.repository);
      for (const tagged of tags) {
        const tag = splitFamiliarTag(tagged).tag;
        const { digest, size } = await pushImage(client, {
          store: images,
          ref: tagged,
          repository: target.repository,
          tag,
          mountFrom: [...new Set(others)],
          storeRepository: familiar,
          onProgress: (p) => out.write(p),
        });
        out.write({ status: `${tag}: digest: ${digest} size: ${size}` });
        out.write({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } });
        engine.events.publish("image", "push", tagged, { name: tagged });
      }
    } catch (err) {
      out.error(err);
    }
    out.end();
  });

  // `docker login`: the credentials are checked against the registry (the CLI keeps them, and sends them with each pull and push).
  router.post("/auth", async ({ req, res }) => {
    const body = await readJsonBody(req);
    if (!body) throw new BadParameterError("The request body must hold the registry credentials as JSON (username, password, serveraddress).");
    const server = typeof body.serveraddress === "string" && body.serveraddress ? body.serveraddress : registry.known;
    if (!server) throw new BadParameterError("Name the registry to log in to (docker login host:5000).");
    const domain = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    const client = new RegistryClient({ domain, credentials: credentialsFromAuthBody(body), insecure: insecureRegistries(engine.env) });
    try {
      await client.ping();
    } catch (err) {
      if (err instanceof RegistryError && (err.status === 401 || err.status === 403))
        throw new RegistryError(`login attempt to ${domain}/v2/ failed with status: ${err.status === 401 ? "401 Unauthorized" : "403 Forbidden"}`, undefined, 401);
      throw err;
    }
    sendJson(res, 200, { Status: "Login Succeeded", IdentityToken: "" });
  });
}
