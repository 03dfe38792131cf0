// The API server's routing and error contract, against the real server on a
// temporary unix socket (no docker CLI needed): the /v1.NN prefix, version
// limits, image names with slashes, Docker's error bodies and statuses,
// 501 for what is not there yet, and the socket's own rules.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { ApiRouter } from "../../../../src/core/api/api-router";
import { DockerApiServer, EngineAlreadyRunningError } from "../../../../src/core/api/docker-api-server";
import { addImage, request, startTestEngine, type TestEngine } from "./api-fixtures";

let t: TestEngine;
let busyboxId = "";
let nestedId = "";

before(async () => {
  t = await startTestEngine();
  busyboxId = await addImage(t, ["busybox:latest"], "a.txt");
  nestedId = await addImage(t, ["localhost:5000/team/app:v1"], "b.txt");
});
after(async () => {
  await t?.close();
});

test("/_ping answers with and without a version prefix, with Docker's negotiation headers", async () => {
  for (const p of ["/_ping", "/v1.43/_ping", "/v1.24/_ping"]) {
    const r = await request(t.socket, "GET", p);
    assert.equal(r.status, 200, p);
    assert.equal(r.text, "OK");
    assert.equal(r.headers["api-version"], "1.43");
    assert.equal(r.headers["builder-version"], "1");
    assert.equal(r.headers["docker-experimental"], "false");
    assert.equal(r.headers["ostype"], "linux");
    assert.match(String(r.headers["cache-control"]), /no-cache/);
  }
  const head = await request(t.socket, "HEAD", "/_ping");
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.equal(head.headers["api-version"], "1.43");
});

test("versions: 1.24–1.43 are served; newer and older are Docker's 400s", async () => {
  for (const v of ["1.24", "1.41", "1.43"]) {
    const r = await request(t.socket, "GET", `/v${v}/version`);
    assert.equal(r.status, 200, v);
    const body = r.json() as { ApiVersion: string; MinAPIVersion: string; Platform: { Name: string }; Os: string; Arch: string; Components: Array<{ Name: string }> };
    assert.deepEqual([body.ApiVersion, body.MinAPIVersion, body.Platform.Name, body.Os, body.Arch, body.Components[0].Name], ["1.43", "1.24", "Hangar embedded engine", "linux", "386", "Engine"]);
  }
  const tooNew = await request(t.socket, "GET", "/v1.50/version");
  assert.equal(tooNew.status, 400);
  assert.deepEqual(tooNew.json(), { message: "client version 1.50 is too new. Maximum supported API version is 1.43" });
  assert.equal(tooNew.headers["content-type"], "application/json");
  const tooOld = await request(t.socket, "GET", "/v1.12/images/json");
  assert.equal(tooOld.status, 400);
  assert.match((tooOld.json() as { message: string }).message, /^client version 1\.12 is too old\. Minimum supported API version is 1\.24/);
  // Version limits apply before routing: an unknown path with a bad version is still a version error.
  assert.equal((await request(t.socket, "GET", "/v2.0/networks")).status, 400);
});

test("image names with slashes and colons route to the right image and endpoint", async () => {
  const nested = await request(t.socket, "GET", "/v1.43/images/localhost:5000/team/app:v1/json");
  assert.equal(nested.status, 200, nested.text);
  assert.equal((nested.json() as { Id: string }).Id, nestedId);
  // library/busybox is busybox; percent-encoded slashes decode to the same name.
  assert.equal(((await request(t.socket, "GET", "/images/library/busybox/json")).json() as { Id: string }).Id, busyboxId);
  assert.equal(((await request(t.socket, "GET", "/images/localhost%3A5000%2Fteam%2Fapp%3Av1/json")).json() as { Id: string }).Id, nestedId);
  const history = await request(t.socket, "GET", "/v1.43/images/localhost:5000/team/app:v1/history");
  assert.equal(history.status, 200);
  assert.equal((history.json() as Array<{ CreatedBy: string }>)[0].CreatedBy, "ADD b.txt");

  const tagged = await request(t.socket, "POST", "/v1.43/images/localhost:5000/team/app:v1/tag?repo=registry.local/x/y&tag=2");
  assert.equal(tagged.status, 201, tagged.text);
  const inspect = (await request(t.socket, "GET", "/images/registry.local/x/y:2/json")).json() as { Id: string; RepoTags: string[] };
  assert.equal(inspect.Id, nestedId);
  assert.deepEqual(inspect.RepoTags.sort(), ["localhost:5000/team/app:v1", "registry.local/x/y:2"]);

  const removed = await request(t.socket, "DELETE", "/v1.43/images/registry.local/x/y:2");
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(
    (removed.json() as Array<Record<string, string>>).map((r) => Object.keys(r)[0]),
    ["Untagged", "Untagged"],
    "untag only: the image keeps its other tag",
  );
  assert.equal((await request(t.socket, "GET", "/images/localhost:5000/team/app:v1/json")).status, 200);

  // An image literally named "json" is still reachable: the last segment picks the endpoint.
  await addImage(t, ["json:latest"], "c.txt");
  assert.deepEqual(((await request(t.socket, "GET", "/images/json/json")).json() as { RepoTags: string[] }).RepoTags, ["json:latest"]);
  assert.ok(Array.isArray((await request(t.socket, "GET", "/images/json")).json()), "GET /images/json is still the list");
});

test("Docker's error statuses and bodies: 404, 409, 400", async () => {
  const missing = await request(t.socket, "GET", "/v1.43/images/nope/json");
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: "No such image: nope:latest" });

  await request(t.socket, "POST", `/images/busybox/tag?repo=second&tag=1`);
  const conflict = await request(t.socket, "DELETE", `/images/${busyboxId.slice(7, 19)}`);
  assert.equal(conflict.status, 409, conflict.text);
  assert.match((conflict.json() as { message: string }).message, /^conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/);

  const badRef = await request(t.socket, "POST", "/images/busybox/tag?repo=Not%20Valid");
  assert.equal(badRef.status, 400);
  assert.match((badRef.json() as { message: string }).message, /invalid reference format|must be lowercase/);
  const noRepo = await request(t.socket, "POST", "/images/busybox/tag");
  assert.equal(noRepo.status, 400);

  const badFilters = await request(t.socket, "GET", "/images/json?filters=%7Bnot-json");
  assert.equal(badFilters.status, 400);
  assert.match((badFilters.json() as { message: string }).message, /filters parameter is not valid JSON/);
  const unknownFilter = await request(t.socket, "GET", `/images/json?filters=${encodeURIComponent(JSON.stringify({ colour: { red: true } }))}`);
  assert.equal(unknownFilter.status, 400);
  assert.match((unknownFilter.json() as { message: string }).message, /^invalid filter 'colour'/);
});

test("malformed JSON request bodies are a 400 with a clear message", async () => {
  const bad = await request(t.socket, "POST", "/v1.43/auth", "{bad json", { "Content-Type": "application/json" });
  assert.equal(bad.status, 400);
  assert.match((bad.json() as { message: string }).message, /^The request body is not valid JSON: /);
  const notObject = await request(t.socket, "POST", "/v1.43/auth", "[1,2]", { "Content-Type": "application/json" });
  assert.equal(notObject.status, 400);
  assert.match((notObject.json() as { message: string }).message, /must be a JSON object/);
  // Well-formed credentials reach the endpoint, which needs to know the registry (none is named, none is known yet).
  const ok = await request(t.socket, "POST", "/v1.43/auth", JSON.stringify({ username: "u", password: "p" }), { "Content-Type": "application/json" });
  assert.equal(ok.status, 400);
  assert.match((ok.json() as { message: string }).message, /Name the registry to log in to/);
});

test("endpoints not implemented yet are 501 with a message naming them; the connection stays usable", async () => {
  for (const [method, p, shown] of [
    ["GET", "/v1.43/plugins", "GET /plugins"],
    ["GET", "/swarm", "GET /swarm"],
    ["PUT", "/v1.43/images/json", "PUT /images/json"],
    ["POST", "/v1.43/images/busybox/attach", "POST /images/busybox/attach"],
  ] as const) {
    const r = await request(t.socket, method, p);
    assert.equal(r.status, 501, p);
    assert.deepEqual(r.json(), { message: `Hangar's engine does not support ${shown} yet` });
  }
  // /build exists; a context that is not a tar is the client's mistake.
  const build = await request(t.socket, "POST", "/v1.43/build?t=x", "not a tar at all", { "Content-Type": "application/x-tar" });
  assert.equal(build.status, 400);
  assert.match((build.json() as { message: string }).message, /build context could not be unpacked/);
  // A body sent to an unknown endpoint is drained, not left to stall the connection.
  const create = await request(t.socket, "POST", "/v1.43/swarm/init", JSON.stringify({ ListenAddr: "0.0.0.0:2377" }), { "Content-Type": "application/json" });
  assert.equal(create.status, 501);
  assert.deepEqual(create.json(), { message: "Hangar's engine does not support POST /swarm/init yet" });
});

test("containers: none at first; a missing one is a 404; a missing image and a bad name are refused before anything is made; exec of a missing container or instance is a 404", async () => {
  const list = await request(t.socket, "GET", "/v1.43/containers/json?all=1");
  assert.equal(list.status, 200);
  assert.deepEqual(list.json(), []);
  const one = await request(t.socket, "GET", "/v1.43/containers/web/json");
  assert.equal(one.status, 404);
  assert.deepEqual(one.json(), { message: "No such container: web" });
  const json = { "Content-Type": "application/json" };
  const noImage = await request(t.socket, "POST", "/v1.43/containers/create", JSON.stringify({ Image: "nosuch:1" }), json);
  assert.equal(noImage.status, 404);
  assert.deepEqual(noImage.json(), { message: "No such image: nosuch:1" });
  const badName = await request(t.socket, "POST", "/v1.43/containers/create?name=-bad", JSON.stringify({ Image: "busybox" }), json);
  assert.equal(badName.status, 400);
  const noExec = await request(t.socket, "POST", "/v1.43/containers/nosuch/exec", JSON.stringify({ Cmd: ["true"] }), json);
  assert.equal(noExec.status, 404, "exec into a missing container");
  assert.equal((await request(t.socket, "GET", "/v1.43/exec/0123/json")).status, 404, "a missing exec instance");
  assert.deepEqual((await request(t.socket, "GET", "/v1.43/containers/json?all=1")).json(), [], "nothing was created");
});

test("/info and /system/df describe the engine and its images", async () => {
  const info = (await request(t.socket, "GET", "/v1.43/info")).json() as Record<string, unknown>;
  assert.equal(info.ID, "test-engine");
  assert.equal(info.OperatingSystem, "Hangar embedded engine (v86)");
  assert.deepEqual([info.OSType, info.Architecture, info.NCPU, info.MemTotal, info.Driver, info.Containers], ["linux", "i686", 1, 256 * 1024 * 1024, "overlay2", 0]);
  assert.equal(info.DockerRootDir, path.join(t.dir, "engine"));
  assert.ok((info.Images as number) >= 2);
  assert.equal((info.Swarm as { LocalNodeState: string }).LocalNodeState, "inactive");
  const df = (await request(t.socket, "GET", "/v1.43/system/df")).json() as { LayersSize: number; Images: Array<{ Id: string; SharedSize: number }>; Containers: unknown[] };
  assert.ok(df.LayersSize > 0);
  assert.ok(df.Images.some((i) => i.Id === busyboxId && i.SharedSize >= 0));
  assert.deepEqual(df.Containers, []);
  const onlyImages = (await request(t.socket, "GET", "/v1.43/system/df?type=image")).json() as Record<string, unknown>;
  assert.deepEqual(Object.keys(onlyImages).sort(), ["Images", "LayersSize"]);
});

test("the socket: mode 0600; a stale socket is replaced; a live one is never taken", async () => {
  assert.equal((await stat(t.socket)).mode & 0o777, 0o600);
  await assert.rejects(DockerApiServer.listen(t.socket, t.engine), EngineAlreadyRunningError);
  assert.equal((await request(t.socket, "GET", "/_ping")).text, "OK", "the running server was left alone");

  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-api-stale-"));
  try {
    // A socket whose server died without closing it (SIGKILL), as a crashed engine leaves.
    const stale = path.join(dir, "docker.sock");
    const child = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise((resolve) => child.stdout!.once("data", resolve));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    assert.ok(existsSync(stale));
    const server = await DockerApiServer.listen(stale, t.engine);
    try {
      assert.equal((await request(stale, "GET", "/_ping")).text, "OK");
    } finally {
      await server.close();
    }
    assert.ok(!existsSync(stale), "closing removes the socket file");

    const plain = path.join(dir, "not-a-socket");
    await writeFile(plain, "keep me");
    await assert.rejects(DockerApiServer.listen(plain, t.engine), /exists and is not a socket/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the router: exact paths before templates, {name*} takes slashes, bad percent-encoding is a 400", () => {
  const router = new ApiRouter();
  const hit = (name: string) => async () => void name;
  router.get("/images/json", hit("list")).get("/images/{name*}/json", hit("inspect")).delete("/images/{name*}", hit("delete")).get("/containers/{id}/json", hit("container"));
  assert.equal(router.match("GET", "/images/json")?.template, "/images/json");
  assert.deepEqual(router.match("GET", "/images/a/b/c:1/json")?.params, { name: "a/b/c:1" });
  assert.deepEqual(router.match("DELETE", "/images/localhost:5000/a/b")?.params, { name: "localhost:5000/a/b" });
  assert.equal(router.match("GET", "/containers/a/b/json"), undefined, "{id} is one segment");
  assert.equal(router.match("POST", "/images/json"), undefined);
  assert.throws(() => router.match("GET", "/images/%E0%A4%A/json"), /not valid percent-encoding/);
});
