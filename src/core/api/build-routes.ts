import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { createGunzip } from "node:zlib";
import { PassThrough } from "node:stream";
import { buildImage } from "../engine/build/dockerfile-builder";
import { engineRunStep } from "../engine/build/engine-run-step";
import { applyLayer } from "../engine/images/layer-apply";
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
