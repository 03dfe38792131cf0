import type * as http from "node:http";
import type { Duplex } from "node:stream";
import type { ContainerConfig, ContainerHostConfig, ContainerRecord, OutputChunk } from "../engine/containers/container-engine";
import { HEALTH_FILTER_VALUES, healthStatusText } from "../engine/containers/container-health";
import type { EndpointSettings } from "../engine/containers/container-networking";
import { BadParameterError, ConflictError, NotFoundError } from "./api-errors";
import { DetachScanner, parseDetachKeys } from "./detach-keys";
import { HijackedStream } from "./hijacked-stream";
import type { ApiRouter } from "./api-router";
import { labelsMatch, queryBool, queryFilters, readJsonBody } from "./api-request";
import { sendEmpty, sendJson } from "./api-response";
import type { EngineContext } from "./engine-context";

/** Docker's multiplexed stream framing: [stream, 0, 0, 0, size (u32 BE)] then the bytes. */
export function frame(chunk: OutputChunk, timestamps = false): Buffer {
  const data = timestamps ? Buffer.concat([Buffer.from(`${chunk.time} `), chunk.data]) : chunk.data;
  const header = Buffer.alloc(8);
  header[0] = chunk.stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Docker's container router: create, start, wait, logs, list, inspect, stop, kill, restart, pause, unpause, changes, rename, remove, prune. Attach (a hijacked connection) is handled by attachUpgrade. */
export function addContainerRoutes(router: ApiRouter, engine: EngineContext): void {
  const containers = engine.containers;

  router.get("/containers/json", async ({ res, query }) => {
    const filters = queryFilters(query, ["ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task", "label", "name", "network", "publish", "since", "status", "volume"]);
    const limit = Number(query.get("limit") ?? -1);
    // `docker ps -l` / `-n N` ask for the newest N of all containers.
    const all = queryBool(query, "all") || limit > 0;
    const listed = containers.list();
    // before/since: containers created before or after the one named (by name or ID prefix), as Docker orders them.
    const createdOf = (ref: string): number => {
      const c = listed.find((r) => r.Name.slice(1) === ref.replace(/^\//, "") || r.Id.startsWith(ref));
      if (!c) throw new NotFoundError(`No such container: ${ref}`);
      return Date.parse(c.Created);
    };
    const health = filters.get("health");
    for (const h of health ?? []) if (!HEALTH_FILTER_VALUES.includes(h)) throw new BadParameterError(`Unrecognised filter value for health: ${h}`);
    const before = filters.has("before") ? Math.min(...filters.get("before")!.map(createdOf)) : undefined;
    const since = filters.has("since") ? Math.max(...filters.get("since")!.map(createdOf)) : undefined;
    const out = listed
      .filter((r) => all || r.State.Running || filters.has("status") || before !== undefined || since !== undefined)
      // Each filter narrows; several values of one filter are alternatives, except label, whose values must all hold (as Docker).
      .filter((r) => labelsMatch(r.Config.Labels, filters.get("label")))
      .filter((r) => !filters.has("network") || filters.get("network")!.some((n) => Object.entries(r.NetworkSettings.Networks).some(([name, e]) => name === n || e.NetworkID.startsWith(n))))
      .filter((r) => !filters.has("ancestor") || filters.get("ancestor")!.some((a) => isAncestor(r, a)))
      .filter((r) => before === undefined || Date.parse(r.Created) < before)
      .filter((r) => since === undefined || Date.parse(r.Created) > since)
      .filter((r) => !filters.has("status") || filters.get("status")!.includes(r.State.Status))
      .filter((r) => !filters.has("id") || filters.get("id")!.some((id) => r.Id.startsWith(id)))
      .filter((r) => !filters.has("name") || filters.get("name")!.some((n) => r.Name.slice(1).includes(n.replace(/^\//, ""))))
      .filter((r) => !filters.has("exited") || (!r.State.Running && filters.get("exited")!.includes(String(r.State.ExitCode))))
      // Docker's volume filter: a volume's name or a mount's destination.
      // (a container that has not run its health check yet, or has none, is "none")
      .filter((r) => !health || health.includes(r.State.Health?.Status ?? "none"))
      .filter((r) => !filters.has("volume") || filters.get("volume")!.some((v) => r.Mounts.some((m) => m.Name === v || m.Destination === v)))
      .map(summary);
    sendJson(res, 200, limit > 0 ? out.slice(0, limit) : out);
  });

  router.post("/containers/create", async ({ req, res, query }) => {
    const body = (await readJsonBody(req)) ?? {};
    const { HostConfig, NetworkingConfig, ...config } = body as {
      HostConfig?: ContainerHostConfig;
      NetworkingConfig?: { EndpointsConfig?: Record<string, Partial<EndpointSettings>> };
    } & ContainerConfig;
    const record = await containers.create(config as ContainerConfig, HostConfig ?? {}, query.get("name") ?? undefined, NetworkingConfig?.EndpointsConfig ?? undefined);
    sendJson(res, 201, { Id: record.Id, Warnings: [] });
  });

  router.post("/containers/prune", async ({ res }) => {
    const deleted: string[] = [];
    for (const r of containers.list()) {
      if (r.State.Running) continue;
      await containers.remove(r.Id);
      deleted.push(r.Id);
    }
    sendJson(res, 200, { ContainersDeleted: deleted, SpaceReclaimed: 0 });
  });

  router.get("/containers/{id}/json", async ({ res, params }) => {
    // What the engine keeps for itself stays out of inspect, as in dockerd's.
    const { HasBeenManuallyStopped: _kept, ...inspect } = containers.get(params.id);
    sendJson(res, 200, inspect);
  });

  router.post("/containers/{id}/start", async ({ res, params }) => sendEmpty(res, (await containers.start(params.id)) === "already" ? 304 : 204));

  router.post("/containers/{id}/wait", async ({ res, params, query }) => {
    const condition = query.get("condition") || "not-running";
    if (!["not-running", "next-exit", "removed"].includes(condition)) throw new BadParameterError(`invalid condition: "${condition}"`);
    containers.get(params.id); // a missing container is a 404 before the status line goes out
    // Headers now, so the client knows the wait is registered before it starts the container (as Docker flushes them).
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    const code = await containers.wait(params.id, condition);
    res.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`);
  });

  router.get("/containers/{id}/logs", async ({ res, params, query }) => {
    const stdout = queryBool(query, "stdout");
    const stderr = queryBool(query, "stderr");
    if (!stdout && !stderr) throw new BadParameterError("You must choose at least one stream");
    const tailText = query.get("tail");
    const tail = tailText && tailText !== "all" ? Number(tailText) : undefined;
    if (tail !== undefined && !Number.isInteger(tail)) throw new BadParameterError(`invalid value for "tail": ${tailText}`);
    const timestamps = queryBool(query, "timestamps");
    const wanted = (c: OutputChunk): boolean => (c.stream === 1 ? stdout : stderr) && c.data.length > 0;
    const record = containers.get(params.id);
    // A TTY's output is one stream: Docker sends it raw, unframed.
    const tty = record.Config.Tty === true;
    const out = (c: OutputChunk): Buffer => (tty ? (timestamps ? Buffer.concat([Buffer.from(`${c.time} `), c.data]) : c.data) : frame(c, timestamps));
    res.writeHead(200, { "Content-Type": `application/vnd.docker.${tty ? "raw-stream" : "multiplexed-stream"}` });
    for (const c of await containers.logs(record.Id, tail)) if (wanted(c)) res.write(out(c));
    if (!queryBool(query, "follow") || !record.State.Running) return void res.end();
    await new Promise<void>((resolve) => {
      const stop = containers.follow(record.Id, (c) => {
        if (c.time === "") {
          stop();
          resolve();
        } else if (wanted(c)) res.write(out(c));
      });
      res.on("close", () => {
        stop();
        resolve();
      });
    });
    res.end();
  });

  router.post("/containers/{id}/kill", async ({ res, params, query }) => {
    await containers.kill(params.id, query.get("signal") || "KILL");
    sendEmpty(res, 204);
  });

  router.post("/containers/{id}/stop", async ({ res, params, query }) => {
    const t = query.get("t");
    sendEmpty(res, (await containers.stop(params.id, t ? Number(t) : 10, query.get("signal") ?? undefined)) === "already" ? 304 : 204);
  });

  router.post("/containers/{id}/restart", async ({ res, params, query }) => {
    const t = query.get("t");
    await containers.stop(params.id, t ? Number(t) : 10);
    await containers.start(params.id);
    sendEmpty(res, 204);
  });

  router.post("/containers/{id}/pause", async ({ res, params }) => {
    await containers.pause(params.id, true);
    sendEmpty(res, 204);
  });

  router.post("/containers/{id}/unpause", async ({ res, params }) => {
    await containers.pause(params.id, false);
    sendEmpty(res, 204);
  });

  // The terminal of a container made with -t follows the client's (docker run -it, docker attach).
  router.post("/containers/{id}/resize", async ({ res, params, query }) => {
    const record = containers.get(params.id);
    const size = { rows: Number(query.get("h")), cols: Number(query.get("w")) };
    if (!Number.isInteger(size.rows) || !Number.isInteger(size.cols) || size.rows <= 0 || size.cols <= 0)
      throw new BadParameterError(`The terminal size h=${query.get("h")} w=${query.get("w")} is not two positive whole numbers.`);
    if (!record.State.Running) throw new ConflictError(`Container ${record.Id} is not running`);
    containers.stdio.resize(record.Id, size);
    sendEmpty(res, 200);
  });

  router.get("/containers/{id}/changes", async ({ res, params }) => sendJson(res, 200, await containers.changes(params.id)));

  router.post("/containers/{id}/rename", async ({ res, params, query }) => {
    const name = query.get("name");
    if (!name) throw new BadParameterError("A new name is needed: rename?name=NEW");
    await containers.rename(params.id, name);
    sendEmpty(res, 204);
  });

  router.delete("/containers/{id}", async ({ res, params, query }) => {
    await containers.remove(params.id, { force: queryBool(query, "force"), volumes: queryBool(query, "v") });
    sendEmpty(res, 204);
  });
}

/**
 * `POST /containers/{id}/attach` with `Upgrade: tcp`: the connection becomes
 * the container's output — raw with a TTY, else in Docker's multiplexed
 * framing — ended when the container exits (the docker CLI attaches before
 * it starts a container it runs in the foreground). With `stdin=1` and a
 * container made with -i, what the client sends is the container's stdin,
 * until the detach keys (ctrl-p ctrl-q unless `detachKeys` says otherwise)
 * end the attach; with StdinOnce (`docker run -i`) the client's end of input
 * is the container's. Returns false when the path is not an attach.
 */
export function attachUpgrade(engine: EngineContext, apiPath: string, query: URLSearchParams, req: http.IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): boolean {
  const m = /^\/containers\/([^/]+)\/attach$/.exec(apiPath);
  if (!m) return false;
  // A missing container throws before the upgrade answer: the server turns it into Docker's 404.
  const record = engine.containers.get(decodeURIComponent(m[1]));
  const detachKeys = parseDetachKeys(query.get("detachKeys"));
  const stdout = queryBool(query, "stdout");
  const stderr = queryBool(query, "stderr");
  const tty = record.Config.Tty === true;
  const stream = new HijackedStream(req, socket, head);
  stream.begin(tty);
  const stop = engine.containers.follow(record.Id, (c) => {
    if (c.time === "") {
      stop();
      stream.end();
    } else if (c.stream === 1 ? stdout : stderr) stream.write(tty ? c.data : frame(c));
  });
  if (queryBool(query, "stdin") && record.Config.OpenStdin) {
    const input = engine.containers.stdio.stdin(record.Id);
    const scanner = new DetachScanner(detachKeys);
    let detached = false;
    stream.stdin.on("data", (d: Buffer) => {
      if (detached) return;
      const { data, detach } = scanner.scan(d);
      if (data.length && !input.writableEnded) input.write(data);
      if (detach) {
        detached = true;
        stop();
        stream.end();
      }
    });
    stream.stdin.on("end", () => {
      if (!detached && record.Config.StdinOnce && !input.writableEnded) input.end();
    });
  }
  socket.on("error", () => stop());
  socket.on("close", () => stop());
  return true;
}

/** Docker's container summary (GET /containers/json). */
/** Docker's ancestor filter: the container's image by name (":latest" implied), by full ID, or by ID prefix. */
function isAncestor(r: ContainerRecord, wanted: string): boolean {
  const tagged = (name: string): string => (/:[^/]+$/.test(name) || name.includes("@") ? name : `${name}:latest`);
  if (tagged(r.Config.Image) === tagged(wanted)) return true;
  const id = r.Image.replace(/^sha256:/, "");
  const w = wanted.replace(/^sha256:/, "");
  return w.length >= 4 && /^[0-9a-f]+$/.test(w) && id.startsWith(w);
}

function summary(r: ContainerRecord): Record<string, unknown> {
  return {
    Id: r.Id,
    Names: [r.Name],
    Image: r.Config.Image,
    ImageID: r.Image,
    Command: [r.Path, ...r.Args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" "),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: ports(r),
    Labels: r.Config.Labels ?? {},
    State: r.State.Status,
    Status: statusText(r),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode ?? "bridge" },
    NetworkSettings: { Networks: r.NetworkSettings.Networks },
    Mounts: r.Mounts,
  };
}

/** The summary's ports: each published binding, and exposed ports that are not published (as `docker ps` shows them). */
function ports(r: ContainerRecord): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  for (const [key, bindings] of Object.entries(r.NetworkSettings.Ports ?? {})) {
    const [port, type = "tcp"] = key.split("/");
    if (bindings?.length) for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
    else out.push({ PrivatePort: Number(port), Type: type });
  }
  return out;
}

/** Docker's State.String(): "Up 5 seconds (healthy)", "Restarting (1) 2 seconds ago", "Exited (0) …". */
export function statusText(r: Pick<ContainerRecord, "State">): string {
  if (r.State.Running) {
    if (r.State.Paused) return `Up ${ago(r.State.StartedAt)} (Paused)`;
    if (r.State.Restarting) return `Restarting (${r.State.ExitCode}) ${ago(r.State.FinishedAt)} ago`;
    return `Up ${ago(r.State.StartedAt)}${r.State.Health ? ` (${healthStatusText(r.State.Health)})` : ""}`;
  }
  if (r.State.Status === "created") return "Created";
  return `Exited (${r.State.ExitCode}) ${ago(r.State.FinishedAt)} ago`;
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s <= 1 ? "Less than a second" : `${s} seconds`;
  if (s < 3600) return `${Math.round(s / 60)} minute${Math.round(s / 60) === 1 ? "" : "s"}`;
  return `${Math.round(s / 3600)} hour${Math.round(s / 3600) === 1 ? "" : "s"}`;
}
