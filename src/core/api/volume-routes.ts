import { volumeUsers } from "../engine/containers/container-mounts";
import { VolumeInUseError, VolumeNotFoundError } from "../engine/volumes/volume-errors";
import { isAnonymous, type Volume } from "../engine/volumes/volume-store";
import { BadParameterError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { booleanFilter, labelsMatch, queryBool, queryFilters, readJsonBody } from "./api-request";
import { sendEmpty, sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";

/** Docker's volume router: create, list, inspect, remove, prune (the local driver only: volumes are host folders). */
export function addVolumeRoutes(router: ApiRouter, engine: EngineContext): void {
  const { volumes } = engine;
  const users = (name: string): string[] => volumeUsers(engine.containers.list(), name);

  router.get("/volumes", async ({ res, query }) => {
    const filters = queryFilters(query, ["dangling", "driver", "label", "name"]);
    const dangling = booleanFilter(filters, "dangling");
    const out = volumes
      .list()
      .filter((v) => dangling === undefined || (users(v.Name).length === 0) === dangling)
      .filter((v) => !filters.has("driver") || filters.get("driver")!.includes(v.Driver))
      .filter((v) => !filters.has("name") || filters.get("name")!.some((n) => v.Name.includes(n)))
      .filter((v) => labelsMatch(v.Labels, filters.get("label")));
    sendJson(res, 200, { Volumes: out, Warnings: [] });
  });

  router.post("/volumes/create", async ({ req, res }) => {
    const body = (await readJsonBody(req)) ?? {};
    const { Name, Driver, DriverOpts, Labels } = body;
    if (Name !== undefined && typeof Name !== "string") throw new BadParameterError("Name must be a string.");
    if (Driver !== undefined && typeof Driver !== "string") throw new BadParameterError("Driver must be a string.");
    for (const [field, value] of [
      ["DriverOpts", DriverOpts],
      ["Labels", Labels],
    ] as const) {
      if (value !== undefined && value !== null && (typeof value !== "object" || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")))
        throw new BadParameterError(`${field} must be a JSON object of strings.`);
    }
    const { volume } = await volumes.create({
      name: Name as string | undefined,
      driver: Driver as string | undefined,
      driverOpts: (DriverOpts as Record<string, string> | null) ?? undefined,
      labels: (Labels as Record<string, string> | null) ?? undefined,
    });
    sendJson(res, 201, volume);
  });

  router.post("/volumes/prune", async ({ res, query }) => {
    const filters = queryFilters(query, ["all", "label", "label!"]);
    // Docker 23+: only anonymous volumes, unless all=true.
    const all = booleanFilter(filters, "all") === true;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of volumes.list()) {
      if (!all && !isAnonymous(v)) continue;
      if (users(v.Name).length) continue;
      if (!labelsMatch(v.Labels, filters.get("label"))) continue;
      if (filters.has("label!") && filters.get("label!")!.some((l) => labelsMatch(v.Labels, [l]))) continue;
      const size = await volumes.size(v.Name).catch(() => 0);
      await volumes.remove(v.Name);
      deleted.push(v.Name);
      reclaimed += size;
    }
    sendJson(res, 200, { VolumesDeleted: deleted, SpaceReclaimed: reclaimed });
  });

  router.get("/volumes/{name}", async ({ res, params }) => sendJson(res, 200, volumes.get(params.name)));

  router.delete("/volumes/{name}", async ({ res, params, query }) => {
    // force: a missing volume is not an error (Docker's behaviour); one in use still is.
    if (!volumes.has(params.name)) {
      if (queryBool(query, "force")) return sendEmpty(res, 204);
      throw new VolumeNotFoundError(params.name);
    }
    const inUse = users(params.name);
    if (inUse.length) throw new VolumeInUseError(params.name, inUse);
    await volumes.remove(params.name);
    sendEmpty(res, 204);
  });
}

/** `system df`'s volumes: each with its size and how many containers use it. */
export async function volumesWithUsage(engine: EngineContext): Promise<Array<Volume & { UsageData: { Size: number; RefCount: number } }>> {
  const out = [];
  for (const v of engine.volumes.list()) {
    out.push({ ...v, UsageData: { Size: await engine.volumes.size(v.Name).catch(() => -1), RefCount: volumeUsers(engine.containers.list(), v.Name).length } });
  }
  return out;
}
