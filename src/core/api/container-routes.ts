import { NotFoundError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { queryFilters } from "./api-request";
import { sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";

/**
 * Docker's container router. UNTIL THE CONTAINER RUNTIME LANDS there are no
 * containers: listing answers an empty list (so `docker ps` works and UIs
 * can poll), inspecting one answers 404, and every other container
 * endpoint falls through to the server's 501. The runtime replaces this file's body with real routes.
 */
export function addContainerRoutes(router: ApiRouter, _engine: EngineContext): void {
  router.get("/containers/json", async ({ res, query }) => {
    // Checked even though nothing can match, so a bad filter is a 400 as with Docker.
    queryFilters(query, ["ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name", "network", "publish", "since", "status", "volume"]);
    sendJson(res, 200, []);
  });
  // "No such container" rather than 501: true while there are none, and clients that look a name up
  // in turn (`docker inspect NAME` tries containers first, then images) go on to the next kind.
  router.get("/containers/{id*}/json", async ({ params }) => {
    throw new NotFoundError(`No such container: ${params.id}`);
  });
}
