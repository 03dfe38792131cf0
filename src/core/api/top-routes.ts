import { containerTop } from "../engine/runtime/container-top";
import { ConflictError, NotImplementedError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";

/** `docker top`: GET /containers/{id}/top, with ps -ef's columns (other ps options are not there). */
export function addTopRoutes(router: ApiRouter, engine: EngineContext): void {
  router.get("/containers/{id}/top", async ({ res, params, query }) => {
    const record = engine.containers.get(params.id);
    const psArgs = (query.get("ps_args") ?? "").trim();
    if (psArgs && psArgs !== "-ef")
      throw new NotImplementedError(`Hangar's engine does not support ps options (${psArgs}) for docker top yet.`, "Run docker top without ps options: it shows ps -ef's columns.");
    if (!record.State.Running) throw new ConflictError(`Container ${record.Id} is not running`);
    const top = await containerTop((await engine.machine.runtime()).session, record.Id);
    if (!top) throw new ConflictError(`Container ${record.Id} is not running`);
    sendJson(res, 200, top);
  });
}
