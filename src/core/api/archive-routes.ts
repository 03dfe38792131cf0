import { prepareUpload } from "../engine/containers/archive-upload";
import type { ContainerRecord } from "../engine/containers/container-engine";
import { ContainerFileAccess, ContainerPathInvalidError, ContainerPathNotFoundError, type FileAccessTarget, type PathStat } from "../engine/runtime/container-file-access";
import { BadParameterError, NotFoundError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { queryBool, readBody } from "./api-request";
import type { EngineContext } from "./engine-context";

/** Largest archive `docker cp` may upload (it is held in memory while it is checked). */
const MAX_UPLOAD = 512 << 20;

/**
 * `docker cp`: HEAD (stat), GET (a tar) and PUT (extract a tar) of
 * /containers/{id}/archive?path=…, on running and stopped containers alike;
 * the path's details travel base64-encoded in X-Docker-Container-Path-Stat.
 */
export function addArchiveRoutes(router: ApiRouter, engine: EngineContext): void {
  const open = async (ref: string, query: URLSearchParams): Promise<{ archive: ContainerFileAccess; target: FileAccessTarget; path: string; record: ContainerRecord }> => {
    const record = engine.containers.get(ref);
    const path = query.get("path") ?? "";
    if (!path) throw new BadParameterError("Path cannot be empty", "Give the path in the container, as in docker cp CONTAINER:/path.");
    const runtime = await engine.machine.runtime();
    // A stopped container's layer sits on the image's unpacked root file system.
    if (!record.State.Running) await runtime.ensureImage(record.Image);
    return { archive: new ContainerFileAccess(runtime.session), target: { containerId: record.Id, imageId: record.Image, running: record.State.Running }, path, record };
  };
  const notFound = (path: string, ref: string): NotFoundError => new NotFoundError(`Could not find the file ${path} in container ${ref}`);

  router.head("/containers/{id}/archive", async ({ res, params, query }) => {
    const { archive, target, path } = await open(params.id, query);
    const stat = await archive.stat(target, path);
    if (!stat) throw notFound(path, params.id);
    res.writeHead(200, { "X-Docker-Container-Path-Stat": statHeader(stat), "Content-Type": "application/json" });
    res.end();
  });

  router.get("/containers/{id}/archive", async ({ res, params, query }) => {
    const { archive, target, path } = await open(params.id, query);
    const got = await archive.get(target, path);
    if (!got) throw notFound(path, params.id);
    res.writeHead(200, { "X-Docker-Container-Path-Stat": statHeader(got.stat), "Content-Type": "application/x-tar", "Content-Length": got.tar.length });
    res.end(got.tar);
  });

  router.add("PUT", "/containers/{id}/archive", async ({ req, res, params, query }) => {
    const { archive, target, path } = await open(params.id, query);
    const upload = await prepareUpload(
      await readBody(
        req,
        MAX_UPLOAD,
        () => new BadParameterError(`The archive to copy is larger than ${MAX_UPLOAD >> 20} MiB, more than Hangar's engine takes in one docker cp.`, "Copy it in parts."),
      ),
      queryBool(query, "copyUIDGID"),
    );
    try {
      await archive.put(target, path, upload.tar, upload.entries, queryBool(query, "noOverwriteDirNonDir"));
    } catch (err) {
      if (err instanceof ContainerPathNotFoundError) throw notFound(path, params.id);
      if (err instanceof ContainerPathInvalidError) throw new BadParameterError(err.message);
      throw err;
    }
    res.writeHead(200, { "Content-Length": 0 });
    res.end();
  });
}

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString("base64");
}
