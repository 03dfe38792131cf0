import type * as http from "node:http";
import type { Duplex } from "node:stream";
import { ContainerExecs, type ExecConfig } from "../engine/containers/container-execs";
import { BadParameterError } from "./api-errors";
import type { ApiRouter } from "./api-router";
import { readJsonBody } from "./api-request";
import { sendEmpty, sendJson } from "./api-response";
import { frame } from "./container-routes";
import type { EngineContext } from "./engine-context";
import { HijackedStream } from "./hijacked-stream";

function execsOf(engine: EngineContext): ContainerExecs {
  return ContainerExecs.of(engine.containers, engine.machine);
}

/** Docker's exec router: create, inspect, resize, and a detached start. An attached start (a hijacked connection) is execUpgrade. */
export function addExecRoutes(router: ApiRouter, engine: EngineContext): void {
  router.post("/containers/{id}/exec", async ({ req, res, params }) => {
    const config = ((await readJsonBody(req)) ?? {}) as ExecConfig;
    sendJson(res, 201, { Id: execsOf(engine).create(params.id, config) });
  });

  router.get("/exec/{id}/json", async ({ res, params }) => sendJson(res, 200, execsOf(engine).inspect(params.id)));

  router.post("/exec/{id}/resize", async ({ res, params, query }) => {
    const size = { rows: Number(query.get("h")), cols: Number(query.get("w")) };
    if (!Number.isInteger(size.rows) || !Number.isInteger(size.cols) || size.rows <= 0 || size.cols <= 0)
      throw new BadParameterError(`The terminal size h=${query.get("h")} w=${query.get("w")} is not two positive whole numbers.`);
    execsOf(engine).resize(params.id, size);
    // 200, as Docker's API documents it (clients such as dockerode refuse other codes).
    sendEmpty(res, 200);
  });

  // Without a hijack: `docker exec -d` (Detach) returns once the process runs; otherwise the output is the response body.
  router.post("/exec/{id}/start", async ({ req, res, params }) => {
    const body = ((await readJsonBody(req)) ?? {}) as { Detach?: boolean };
    const execs = execsOf(engine);
    if (body.Detach) {
      await execs.start(params.id, {});
      return sendEmpty(res, 200);
    }
    execs.checkStart(params.id);
    const tty = execs.tty(params.id);
    const { OpenStdout, OpenStderr } = execs.inspect(params.id);
    res.writeHead(200, { "Content-Type": `application/vnd.docker.${tty ? "raw-stream" : "multiplexed-stream"}` });
    const out = (stream: 1 | 2) => (data: Buffer) => {
      if (stream === 1 ? OpenStdout : OpenStderr) res.write(tty ? data : frame({ stream, data, time: "" }));
    };
    const { exited } = await execs.start(params.id, { onStdout: out(1), onStderr: out(2) });
    await exited.catch(() => undefined);
    res.end();
  });
}

/**
 * `POST /exec/{id}/start` with `Upgrade: tcp` (docker exec without -d): the
 * connection carries the process's stdin (with -i) one way and its output
 * the other — raw with a TTY, else multiplexed — and ends once the exit
 * status is recorded, so the client's inspect right after sees it.
 */
export function execUpgrade(engine: EngineContext, apiPath: string, _query: URLSearchParams, req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const m = /^\/exec\/([^/]+)\/start$/.exec(apiPath);
  if (!m) return false;
  const execs = execsOf(engine);
  const id = decodeURIComponent(m[1]);
  // Errors before the answer (no such exec, container not running) get their status from the server.
  execs.checkStart(id);
  const tty = execs.tty(id);
  const { OpenStdin, OpenStdout, OpenStderr } = execs.inspect(id);
  const stream = new HijackedStream(req, socket, head);
  stream.begin(tty);
  const out = (n: 1 | 2) => (data: Buffer) => {
    if (n === 1 ? OpenStdout : OpenStderr) stream.write(tty ? data : frame({ stream: n, data, time: "" }));
  };
  void execs
    .start(id, { stdin: OpenStdin ? stream.stdin : undefined, onStdout: out(1), onStderr: out(2) })
    .then(({ exited }) => exited)
    .catch((err: unknown) => out(2)(Buffer.from(`${err instanceof Error ? err.message : String(err)}\n`)))
    .finally(() => stream.end());
  return true;
}
