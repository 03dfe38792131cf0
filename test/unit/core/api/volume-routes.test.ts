// Volume endpoints and container mounts over the real server and stores
// (the engine machine never starts: creating containers does not need it):
// Docker's statuses and messages, filters, in-use refusals, rm -v, prune.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { addImage, request, startTestEngine, type TestEngine } from "./api-fixtures";

let t: TestEngine;
before(async () => {
  t = await startTestEngine();
  await addImage(t, ["sample:1"]);
});
after(async () => {
  await t?.close();
});

const json = (body: unknown): [string, Record<string, string>] => [JSON.stringify(body), { "Content-Type": "application/json" }];
const post = (p: string, body: unknown) => request(t.socket, "POST", p, ...json(body));
const names = async (filters?: object): Promise<string[]> => {
  const q = filters ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : "";
  return ((await request(t.socket, "GET", `/v1.43/volumes${q}`)).json() as { Volumes: Array<{ Name: string }> }).Volumes.map((v) => v.Name);
};

test("create, inspect, list with filters; bad input is a 400 that makes nothing", async () => {
  const created = await post("/v1.43/volumes/create", { Name: "logs", Labels: { team: "blue" } });
  assert.equal(created.status, 201);
  assert.deepEqual(
    { ...(created.json() as object), CreatedAt: "" },
    { Name: "logs", Driver: "local", Mountpoint: path.join(t.dir, "engine", "volumes", "logs", "_data"), CreatedAt: "", Labels: { team: "blue" }, Scope: "local", Options: null },
  );
  const unnamed = (await post("/volumes/create", {})).json() as { Name: string };
  assert.match(unnamed.Name, /^[0-9a-f]{64}$/);
  assert.equal((await request(t.socket, "GET", "/volumes/logs")).status, 200);
  assert.deepEqual(await request(t.socket, "GET", "/volumes/nope").then((r) => [r.status, r.json()]), [404, { message: "get nope: no such volume" }]);
  assert.deepEqual(await names({ name: ["log"] }), ["logs"]);
  assert.deepEqual(await names({ label: ["team=blue"] }), ["logs"]);
  assert.deepEqual(await names({ label: ["team=red"] }), []);
  assert.equal((await request(t.socket, "GET", `/volumes?filters=${encodeURIComponent('{"color":["x"]}')}`)).status, 400);

  for (const [body, message] of [
    [{ Name: "x1", Driver: "nfs" }, /Volume driver "nfs" is not available/],
    [{ Name: "x1", DriverOpts: { o: "size=1m" } }, /takes no driver options \(o\)/],
    [{ Name: "x 1" }, /includes invalid characters/],
    [{ Name: 5 }, /Name must be a string/],
    [{ Name: "x1", Labels: { a: 1 } }, /Labels must be a JSON object of strings/],
  ] as const) {
    const r = await post("/volumes/create", body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match((r.json() as { message: string }).message, message);
  }
  const malformed = await request(t.socket, "POST", "/volumes/create", "{not json", { "Content-Type": "application/json" });
  assert.equal(malformed.status, 400);
  assert.deepEqual((await names()).sort(), ["logs", unnamed.Name].sort(), "refused creates made nothing");
  for (const n of await names()) assert.equal((await request(t.socket, "DELETE", `/volumes/${n}`)).status, 204);
});

test("containers: -v creates named and anonymous volumes and lists them as Mounts; in use, a volume cannot go; rm -v takes the anonymous ones", async () => {
  const r = await post("/containers/create?name=app", { Image: "sample:1", Volumes: { "/cache": {} }, HostConfig: { Binds: ["appdata:/data:ro", `${t.dir}/src:/src`] } });
  assert.equal(r.status, 201, r.text);
  const id = (r.json() as { Id: string }).Id;
  const inspect = (await request(t.socket, "GET", "/containers/app/json")).json() as { Mounts: Array<Record<string, unknown>>; HostConfig: { Binds: string[] } };
  assert.deepEqual(inspect.HostConfig.Binds, ["appdata:/data:ro", `${t.dir}/src:/src`]);
  const anon = inspect.Mounts.find((m) => m.Destination === "/cache")!.Name as string;
  assert.match(anon, /^[0-9a-f]{64}$/);
  const volumes = path.join(t.dir, "engine", "volumes");
  assert.deepEqual(inspect.Mounts, [
    { Type: "volume", Name: anon, Source: path.join(volumes, anon, "_data"), Destination: "/cache", Driver: "local", Mode: "", RW: true, Propagation: "" },
    { Type: "volume", Name: "appdata", Source: path.join(volumes, "appdata", "_data"), Destination: "/data", Driver: "local", Mode: "ro", RW: false, Propagation: "" },
    { Type: "bind", Source: `${t.dir}/src`, Destination: "/src", Mode: "", RW: true, Propagation: "rprivate" },
  ]);
  assert.equal(existsSync(path.join(t.dir, "src")), true, "-v made the missing host folder");
  const ps = async (volume: string): Promise<number> =>
    ((await request(t.socket, "GET", `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ volume: [volume] }))}`)).json() as unknown[]).length;
  assert.deepEqual([await ps("appdata"), await ps("/cache"), await ps("other")], [1, 1, 0], "ps --filter volume= by name or destination");

  const inUse = await request(t.socket, "DELETE", "/volumes/appdata?force=1");
  assert.equal(inUse.status, 409);
  assert.match((inUse.json() as { message: string }).message, new RegExp(`^remove appdata: volume is in use - \\[${id}\\]`));
  assert.deepEqual(await names({ dangling: ["true"] }), []);
  const pruned = (await post("/volumes/prune", {})).json() as { VolumesDeleted: string[] };
  assert.deepEqual(pruned.VolumesDeleted, [], "volumes in use are never pruned");

  assert.equal((await request(t.socket, "DELETE", "/containers/app?v=1")).status, 204);
  assert.deepEqual(await names(), ["appdata"], "rm -v removed the anonymous volume, not the named one");
  assert.equal((await request(t.socket, "DELETE", "/volumes/appdata")).status, 204);
  assert.equal((await request(t.socket, "DELETE", "/volumes/appdata")).status, 404);
  assert.equal((await request(t.socket, "DELETE", "/volumes/appdata?force=1")).status, 204, "force: a missing volume is fine");
});

test("a refused container (bind outside the shared folders, missing --mount source, duplicate mount) makes no volume and no container", async () => {
  for (const [hostConfig, message] of [
    [{ Binds: ["made:/a", "/etc:/b"] }, /bind mount source \/etc is not in a folder shared with Hangar's engine machine/],
    [{ Binds: ["made:/a"], Mounts: [{ Type: "bind", Source: `${t.dir}/missing`, Target: "/m" }] }, /bind source path does not exist/],
    [{ Binds: ["made:/a", "other:/a"] }, /Duplicate mount point: \/a/],
    [{ Binds: "made:/a" }, /HostConfig.Binds must be a list of strings/],
  ] as const) {
    const r = await post("/containers/create", { Image: "sample:1", HostConfig: hostConfig });
    assert.equal(r.status, 400, JSON.stringify(hostConfig));
    assert.match((r.json() as { message: string }).message, message);
  }
  assert.deepEqual(await names(), []);
  assert.deepEqual((await request(t.socket, "GET", "/containers/json?all=1")).json(), []);
});

test("prune: anonymous unused volumes by default, every unused one with all=true; system df reports sizes and use", async () => {
  await post("/volumes/create", { Name: "named" });
  const c = (await post("/containers/create", { Image: "sample:1", Volumes: { "/x": {} } })).json() as { Id: string };
  const anon = (await names()).find((n) => n !== "named")!;
  const df = (await request(t.socket, "GET", "/system/df?type=volume")).json() as { Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }> };
  assert.deepEqual(
    df.Volumes.map((v) => [v.Name, v.UsageData]).sort(),
    [
      [anon, { Size: 0, RefCount: 1 }],
      ["named", { Size: 0, RefCount: 0 }],
    ].sort(),
  );
  assert.equal((await request(t.socket, "DELETE", `/containers/${c.Id}`)).status, 204);
  assert.deepEqual(await names(), [anon, "named"].sort(), "rm without -v keeps the anonymous volume");
  assert.deepEqual((await post("/volumes/prune", {})).json(), { VolumesDeleted: [anon], SpaceReclaimed: 0 });
  assert.deepEqual((await post(`/volumes/prune?filters=${encodeURIComponent('{"all":["true"]}')}`, {})).json(), { VolumesDeleted: ["named"], SpaceReclaimed: 0 });
  assert.deepEqual(await names(), []);
});
