import type { NetworkRecord } from "../engine/networks/network-store";
import { BadParameterError } from "./api-errors";
import { labelsMatch, queryFilters, readJsonBody } from "./api-request";
import { sendEmpty, sendJson } from "./api-response";
import type { ApiRouter } from "./api-router";
import type { EngineContext } from "./engine-context";

interface CreateBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** Docker's network router: list, inspect, create, connect, disconnect, remove, prune. */
export function addNetworkRoutes(router: ApiRouter, engine: EngineContext): void {
  const networks = engine.networks;

  router.get("/networks", async ({ res, query }) => {
    const filters = queryFilters(query, ["dangling", "driver", "id", "label", "name", "scope", "type"]);
    const out = networks
      .list()
      .filter((n) => !filters.has("name") || filters.get("name")!.some((v) => n.Name.includes(v)))
      .filter((n) => !filters.has("id") || filters.get("id")!.some((v) => n.Id.startsWith(v)))
      .filter((n) => !filters.has("driver") || filters.get("driver")!.includes(n.Driver))
      .filter((n) => !filters.has("type") || filters.get("type")!.includes(networks.isPredefined(n) ? "builtin" : "custom"))
      .filter((n) => labelsMatch(n.Labels, filters.get("label")))
      .filter((n) => !filters.has("dangling") || filters.get("dangling")!.includes(String(!networks.isPredefined(n) && !engine.containers.usingNetwork(n.Id))))
      .map((n) => resource(engine, n));
    sendJson(res, 200, out);
  });

  router.get("/networks/{id}", async ({ res, params }) => sendJson(res, 200, resource(engine, networks.get(params.id))));

  router.post("/networks/create", async ({ req, res }) => {
    const body = ((await readJsonBody(req)) ?? {}) as CreateBody;
    if (body.EnableIPv6) throw new BadParameterError("Hangar's engine has no IPv6 networks yet: leave out --ipv6.");
    if (body.IPAM?.Driver && body.IPAM.Driver !== "default") throw new BadParameterError(`IPAM driver ${body.IPAM.Driver} is not available: only "default"`);
    const configs = body.IPAM?.Config ?? [];
    if (configs.length > 1) throw new BadParameterError("Hangar's engine takes one subnet per network.");
    if (configs[0]?.IPRange) throw new BadParameterError("--ip-range is not supported by Hangar's engine yet: give --subnet alone.");
    const n = await networks.create({
      name: body.Name ?? "",
      driver: body.Driver,
      internal: body.Internal,
      attachable: body.Attachable,
      subnet: configs[0]?.Subnet,
      gateway: configs[0]?.Gateway,
      labels: body.Labels,
      options: body.Options,
    });
    engine.events.publish("network", "create", n.Id, { name: n.Name, type: n.Driver });
    sendJson(res, 201, { Id: n.Id, Warning: "" });
  });

  router.post("/networks/{id}/connect", async ({ req, res, params }) => {
    const body = ((await readJsonBody(req)) ?? {}) as { Container?: string; EndpointConfig?: Record<string, unknown> };
    if (!body.Container) throw new BadParameterError("No container was given to connect.");
    const n = networks.get(params.id);
    await engine.containers.connect(body.Container, n, body.EndpointConfig ?? {});
    engine.events.publish("network", "connect", n.Id, { name: n.Name, type: n.Driver, container: engine.containers.get(body.Container).Id });
    sendEmpty(res, 200);
  });

  router.post("/networks/{id}/disconnect", async ({ req, res, params }) => {
    const body = ((await readJsonBody(req)) ?? {}) as { Container?: string; Force?: boolean };
    if (!body.Container) throw new BadParameterError("No container was given to disconnect.");
    const n = networks.get(params.id);
    await engine.containers.disconnect(body.Container, n);
    engine.events.publish("network", "disconnect", n.Id, { name: n.Name, type: n.Driver, container: engine.containers.get(body.Container).Id });
    sendEmpty(res, 200);
  });

  router.delete("/networks/{id}", async ({ res, params }) => {
    const n = networks.get(params.id);
    const user = engine.containers.usingNetwork(n.Id);
    await networks.remove(n.Id, user ? user.Name.slice(1) : undefined);
    if (engine.machine.running && n.Bridge) await (await engine.machine.runtime()).removeBridge(n.Bridge, n.Subnet);
    engine.events.publish("network", "destroy", n.Id, { name: n.Name, type: n.Driver });
    sendEmpty(res, 204);
  });

  router.post("/networks/prune", async ({ res, query }) => {
    const filters = queryFilters(query, ["label", "until"]);
    const deleted: string[] = [];
    for (const n of networks.list()) {
      // Any container on it, running or not, keeps it.
      if (networks.isPredefined(n) || engine.containers.list().some((c) => Object.values(c.NetworkSettings.Networks).some((e) => e.NetworkID === n.Id))) continue;
      if (!labelsMatch(n.Labels, filters.get("label"))) continue;
      await networks.remove(n.Id);
      if (engine.machine.running && n.Bridge) await (await engine.machine.runtime()).removeBridge(n.Bridge, n.Subnet).catch(() => undefined);
      engine.events.publish("network", "destroy", n.Id, { name: n.Name, type: n.Driver });
      deleted.push(n.Name);
    }
    sendJson(res, 200, { NetworksDeleted: deleted });
  });
}

/** Docker's NetworkResource: the network and the running containers on it. */
function resource(engine: EngineContext, n: NetworkRecord): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const c of engine.containers.list()) {
    const ep = Object.values(c.NetworkSettings.Networks).find((e) => e.NetworkID === n.Id);
    if (ep && c.State.Running)
      containers[c.Id] = { Name: c.Name.slice(1), EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : "", IPv6Address: "" };
  }
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: "local",
    Driver: n.Driver,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: n.Subnet ? [{ Subnet: n.Subnet, Gateway: n.Gateway }] : [] },
    Internal: n.Internal,
    Attachable: n.Attachable,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: containers,
    Options: n.Options,
    Labels: n.Labels,
  };
}
