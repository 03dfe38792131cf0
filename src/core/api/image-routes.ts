import type * as http from "node:http";
import { PassThrough, Writable } from "node:stream";
import { builtinImageName, ensureBuiltinImage } from "../engine/images/builtin-images";
import { familiarString, parseReference, parseTagTarget, withDefaultTag } from "../engine/images/image-reference";
import { ImageNotFoundError, type ImageDeleteItem } from "../engine/images/image-store";
import { BadParameterError, NotFoundError, NotImplementedError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { booleanFilter, labelsMatch, queryBool, queryFilters } from "./api-request";
import { JsonMessageStream, sendEmpty, sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";
import { pullFromRegistry } from "./registry-routes";
import { RegistryUnreachableError, registryOf } from "../engine/registry/registry-client";
import { imageHistory, imageInspect, imageSummary } from "./image-responses";

/** Platforms the built-in images are made for (the engine machine is i686). */
const BUILTIN_PLATFORMS = new Set(["linux/386", "linux/i386", "386", "i386", "linux"]);

/**
 * Docker's image router. Image names may hold slashes and colons
 * ("localhost:5000/team/app:1"), so routes with a name take it as
 * `{name*}`: everything between "/images/" and the last segment.
 */
export function addImageRoutes(router: ApiRouter, engine: EngineContext): void {
  const { images, events, registry } = engine;
  const fromClient = (name: string): Promise<string> => registry.fromClient(name, false);

  /** Docker's LogImageEvent: the image's labels plus "name". */
  const imageEvent = (action: string, id: string, name: string, labels?: Record<string, string> | null): void => {
    events.publish("image", action, id, { ...(labels ?? {}), name });
  };

  /** Image IDs and labels before a removal, to tell images from layers in Deleted records and to label the events. */
  const imageLabels = async (): Promise<Map<string, Record<string, string>>> => new Map((await images.list({ all: true })).map((i) => [i.id, i.config.config?.Labels ?? {}]));

  const publishRemoval = (records: ImageDeleteItem[], known: Map<string, Record<string, string>>, imageId?: string): void => {
    for (const r of records) {
      if ("Untagged" in r) {
        if (imageId) imageEvent("untag", imageId, imageId, known.get(imageId));
      } else if (known.has(r.Deleted)) imageEvent("delete", r.Deleted, r.Deleted, known.get(r.Deleted));
    }
  };

  router.get("/images/json", async ({ res, query }) => {
    const filters = queryFilters(query, ["dangling", "reference", "label", "before", "since"]);
    const reference = await Promise.all((filters.get("reference") ?? []).map(fromClient));
    const stored = await images.list({
      all: queryBool(query, "all"),
      dangling: booleanFilter(filters, "dangling"),
      reference: reference.length > 0 ? reference : undefined,
      sharedSize: queryBool(query, "shared-size"),
    });
    let list = stored.map((i) => imageSummary(i));
    list = list.filter((s) => labelsMatch(s.Labels, filters.get("label")));
    for (const [key, keep] of [
      ["before", (c: number, t: number) => c < t],
      ["since", (c: number, t: number) => c > t],
    ] as const) {
      for (const ref of filters.get(key) ?? []) {
        const pivot = Math.floor(Date.parse(imageInspect(await images.image(await fromClient(ref))).Created) / 1000);
        list = list.filter((s) => keep(s.Created, pivot));
      }
    }
    sendJson(res, 200, list);
  });

  // `docker pull`: the built-in images (made from Debian packages, so they work offline), everything else from its registry.
  router.post("/images/create", async ({ req, res, query }) => {
    if (query.get("fromSrc") !== null) throw new NotImplementedError("Hangar's engine does not support `docker import` yet.", "Use `docker load` with an archive from `docker save`.");
    const fromImageParam = query.get("fromImage");
    if (!fromImageParam) throw new BadParameterError("The fromImage parameter is required (the image to pull).");
    // Clients qualify fromImage (and tag's repo) with their default registry: where it can be learned.
    const fromImage = await registry.fromClient(fromImageParam, true);
    const tag = query.get("tag") ?? "";
    const text = tag === "" ? fromImage : tag.startsWith("sha256:") ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
    const wanted = familiarString(withDefaultTag(parseReference(text)));
    const builtinName = builtinImageName(text);
    if (!builtinName) return pullFromRegistry(engine, req, res, parseReference(text), query.get("platform"));
    // The Debian images come from their registry when it answers; the built-in ones are made when it cannot be reached.
    let unreachable: string | undefined;
    if (builtinName !== "busybox" && registryOf(parseReference(text).name, registry.known)) {
      try {
        return await pullFromRegistry(engine, req, res, parseReference(text), query.get("platform"));
      } catch (err) {
        if (!(err instanceof RegistryUnreachableError)) throw err;
        unreachable = err.message.split(/(?<=\.) /)[0]; // the reason, without the hint about insecure registries
      }
    }
    const platform = query.get("platform");
    if (platform && !BUILTIN_PLATFORMS.has(platform.toLowerCase()))
      throw new NotFoundError(`The built-in image ${wanted} exists for linux/386 only, not for ${platform}.`, "Pull it without --platform.");

    const out = new JsonMessageStream(res);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const known = await images.image(wanted).catch((err: unknown) => {
      if (err instanceof ImageNotFoundError) return undefined;
      throw err;
    });
    const [repo, tagName] = [wanted.slice(0, wanted.lastIndexOf(":")), wanted.slice(wanted.lastIndexOf(":") + 1)];
    out.write({ status: `Pulling from ${repo.includes("/") ? repo : `library/${repo}`}`, id: tagName });
    if (unreachable && !known) out.write({ status: `${unreachable} Making the built-in ${wanted} from Debian packages instead.` });
    try {
      const image = await ensureBuiltinImage(images, text, {
        hangarHome: engine.hangarHome,
        mirror: engine.mirror,
        env: engine.env,
        signal: abort.signal,
        // Plain status lines (no progress bar): the CLI prints them on a terminal and in logs alike.
        onProgress: (_fraction, message) => out.write({ status: message, id: "built-in" }),
      });
      if (!image) throw new NotFoundError(`${wanted} is not a built-in image.`);
      if (!known) for (const layer of image.config.rootfs.diff_ids) out.write({ status: "Pull complete", progressDetail: {}, id: layer.slice("sha256:".length, "sha256:".length + 12) });
      const digest = image.repoDigests[0]?.split("@")[1];
      if (digest) out.write({ status: `Digest: ${digest}` });
      out.write({ status: known ? `Status: Image is up to date for ${wanted}` : `Status: Downloaded newer image for ${wanted}` });
      imageEvent("pull", wanted, wanted, image.config.config?.Labels);
    } catch (err) {
      out.error(err);
    }
    out.end();
  });

  // `docker load`: the request body is the archive. As Docker, the answer is always a JSON stream; a bad archive is an error in it.
  router.post("/images/load", async ({ req, res }) => {
    const out = new JsonMessageStream(res);
    // The store's pipeline destroys its source on a bad archive; a pass-through keeps the request (and so the reply) alive.
    const body = new PassThrough();
    req.pipe(body);
    // A client that goes away mid-upload must fail the load (and free its staging), not leave it waiting for the rest.
    req.once("close", () => {
      if (!req.complete) body.destroy(new BadParameterError("The client closed the connection before the whole archive arrived; nothing was added."));
    });
    try {
      const lines = await images.load(body);
      for (const line of lines) {
        out.write({ stream: `${line}\n` });
        const ref = /^Loaded image(?: ID)?: (.+)$/.exec(line)?.[1];
        const image = ref ? await images.image(ref).catch(() => undefined) : undefined;
        if (image) imageEvent("load", image.id, image.id, image.config.config?.Labels);
      }
    } catch (err) {
      req.unpipe(body);
      req.resume();
      out.error(err);
    }
    out.end();
  });

  router.get("/images/get", async ({ res, query }) => {
    const names = await Promise.all(
      query
        .getAll("names")
        .flatMap((n) => n.split(","))
        .filter((n) => n !== "")
        .map(fromClient),
    );
    if (names.length === 0) throw new BadParameterError("The names parameter is required (the images to save).");
    await saveImages(res, names);
  });

  router.post("/images/prune", async ({ res, query }) => {
    const filters = queryFilters(query, ["dangling", "until", "label", "label!"]);
    for (const key of ["until", "label", "label!"]) {
      if (filters.get(key)?.length)
        throw new NotImplementedError(`Hangar's engine does not support the '${key}' filter of image prune yet.`, "Prune without it, or remove images one by one with `docker rmi`.");
    }
    const danglingOnly = booleanFilter(filters, "dangling") ?? true;
    const known = await imageLabels();
    const result = await images.prune({ all: !danglingOnly, inUse: (id) => engine.containers.usesImage(id) !== undefined });
    for (const r of result.ImagesDeleted) {
      if ("Deleted" in r && known.has(r.Deleted)) imageEvent("delete", r.Deleted, r.Deleted, known.get(r.Deleted));
    }
    events.publish("image", "prune", "", { reclaimed: String(result.SpaceReclaimed) });
    sendJson(res, 200, result);
  });

  router.get("/images/{name*}/json", async ({ res, params }) => {
    sendJson(res, 200, imageInspect(await images.image(await fromClient(params.name))));
  });

  router.get("/images/{name*}/history", async ({ res, params }) => {
    sendJson(res, 200, imageHistory(await images.history(await fromClient(params.name))));
  });

  router.get("/images/{name*}/get", async ({ res, params }) => {
    await saveImages(res, [await fromClient(params.name)]);
  });

  router.post("/images/{name*}/tag", async ({ res, params, query }) => {
    const repoParam = query.get("repo");
    if (!repoParam) throw new BadParameterError("The repo parameter is required (the name to tag the image with).");
    const [name, repo] = [await fromClient(params.name), await registry.fromClient(repoParam, true)];
    const tag = query.get("tag") || undefined;
    const target = parseTagTarget(repo, tag);
    const image = await images.image(name);
    await images.tag(name, repo, tag);
    imageEvent("tag", image.id, target, image.config.config?.Labels);
    sendEmpty(res, 201);
  });

  router.delete("/images/{name*}", async ({ res, params, query }) => {
    const name = await fromClient(params.name);
    const image = await images.image(name);
    const known = await imageLabels();
    // No container holds an image until the container runtime lands, so nothing is in use.
    const records = await images.remove(name, { force: queryBool(query, "force"), noPrune: queryBool(query, "noprune"), inUse: (id) => engine.containers.usesImage(id) ?? false });
    publishRemoval(records, known, image.id);
    sendJson(res, 200, records);
  });

  /**
   * `docker save`: the tar streams straight to the client. The status is
   * sent with the first byte, so an unknown name is still a proper 404;
   * a failure after that cuts the connection (the client sees a short tar),
   * as Docker does.
   */
  async function saveImages(res: http.ServerResponse, names: string[]): Promise<void> {
    const ids: Array<{ id: string; labels?: Record<string, string> | null }> = [];
    for (const name of names) {
      const image = await images.image(name).catch(() => undefined);
      if (image) ids.push({ id: image.id, labels: image.config.config?.Labels });
    }
    const sink = new ResponseSink(res, { "Content-Type": "application/x-tar" });
    try {
      await images.save(names, sink);
    } catch (err) {
      if (!sink.started) throw err;
      res.destroy();
      return;
    }
    for (const { id, labels } of ids) imageEvent("save", id, id, labels);
  }
}

/**
 * A response body as a Writable that sends the status and headers with its
 * first byte (or at its end, when empty), with the response's backpressure,
 * and that fails when the client goes away, so a writer never waits forever.
 */
class ResponseSink extends Writable {
  started = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly headers: Record<string, string>,
  ) {
    super();
    res.once("close", () => {
      if (!res.writableFinished) this.destroy(new Error("The client closed the connection."));
    });
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, this.headers);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.begin();
    if (this.res.write(chunk)) callback();
    else this.res.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.begin();
    this.res.end(() => callback());
  }
}
