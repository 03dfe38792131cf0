// Image endpoints over the real server and store: save/load round trip,
// hostile archives, pull of images that are not built in, events with
// since/until and live, and names Docker clients qualify with their
// default registry (a reserved test domain stands in for it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import * as path from "node:path";
import { addImage, request, startTestEngine, tarOf, type TestEngine } from "./api-fixtures";

const CLIENT_DOMAIN = "registry.test";
let t: TestEngine;
let imageId = "";

before(async () => {
  t = await startTestEngine();
  imageId = await addImage(t, ["sample:1", "sample:2"], "s.txt", { team: "blue" });
});
after(async () => {
  await t?.close();
});

const nowSeconds = (): number => Date.now() / 1000;

/** Until `ready` holds (checked every 20 ms), or `ms` have passed: the assertions that follow judge either way. */
async function waitFor(ready: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

test("list filters: reference, dangling, label; all", async () => {
  const list = (q: string) => request(t.socket, "GET", `/v1.43/images/json${q}`).then((r) => r.json() as Array<{ Id: string; RepoTags: string[] }>);
  const filters = (f: object) => `?filters=${encodeURIComponent(JSON.stringify(f))}`;
  assert.deepEqual((await list(filters({ reference: { "sample:1": true } })))[0].RepoTags, ["sample:1"]);
  assert.equal((await list(filters({ reference: ["nothing*"] }))).length, 0, "the older list form of filters is read too");
  assert.equal((await list(filters({ dangling: { true: true } }))).length, 0);
  assert.equal((await list(filters({ label: { "team=blue": true } })))[0].Id, imageId);
  assert.equal((await list(filters({ label: { "team=red": true } }))).length, 0);
  assert.ok((await list("?all=1")).some((i) => i.Id === imageId));
});

test("save streams a tar that loads back to the same image ID; unknown names are a 404 before any byte", async () => {
  const saved = await request(t.socket, "GET", "/v1.43/images/get?names=sample:1");
  assert.equal(saved.status, 200);
  assert.equal(saved.headers["content-type"], "application/x-tar");
  assert.ok(saved.body.length > 1024);
  const single = await request(t.socket, "GET", "/v1.43/images/sample:1/get");
  assert.equal(single.status, 200);

  assert.equal((await request(t.socket, "DELETE", "/v1.43/images/sample:1")).status, 200);
  assert.equal((await request(t.socket, "DELETE", "/v1.43/images/sample:2")).status, 200);
  assert.equal((await request(t.socket, "GET", `/images/${imageId}/json`)).status, 404);

  const loaded = await request(t.socket, "POST", "/v1.43/images/load?quiet=1", saved.body, { "Content-Type": "application/x-tar" });
  assert.equal(loaded.status, 200);
  assert.equal(loaded.headers["content-type"], "application/json");
  assert.deepEqual(
    loaded.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l)),
    [{ stream: "Loaded image: sample:1\n" }],
  );
  assert.equal(((await request(t.socket, "GET", "/images/sample:1/json")).json() as { Id: string }).Id, imageId);

  const missing = await request(t.socket, "GET", "/v1.43/images/get?names=sample:1&names=nope");
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: "No such image: nope:latest" });
  assert.equal((await request(t.socket, "GET", "/v1.43/images/get")).status, 400);
});

test("a hostile load archive is an error in the stream (200, as Docker), and nothing changes", async () => {
  const before = await request(t.socket, "GET", "/images/json").then((r) => r.text);
  const blobsBefore = await readdir(path.join(t.dir, "engine", "images", "blobs", "sha256"));
  const evil = await tarOf([
    { name: "../hangar-api-evil", body: "pwned" },
    { name: "manifest.json", body: "[]" },
  ]);
  const r = await request(t.socket, "POST", "/v1.43/images/load", evil, { "Content-Type": "application/x-tar" });
  assert.equal(r.status, 200);
  const line = JSON.parse(r.text.trim()) as { error: string; errorDetail: { message: string } };
  assert.match(line.error, /\.\.\/hangar-api-evil.*unsafe/);
  assert.equal(line.errorDetail.message, line.error);
  assert.equal(await request(t.socket, "GET", "/images/json").then((x) => x.text), before);
  assert.deepEqual(await readdir(path.join(t.dir, "engine", "images", "blobs", "sha256")), blobsBefore);
  assert.ok(!(await readdir(t.dir, { recursive: true })).some((f) => f.endsWith("hangar-api-evil")), "nothing written in the engine's folders");
  for (const dir of [path.dirname(t.dir), path.dirname(path.dirname(t.dir))]) assert.ok(!existsSync(path.join(dir, "hangar-api-evil")), `nothing written in ${dir}`);

  const garbage = await request(t.socket, "POST", "/v1.43/images/load", "this is not a tar", { "Content-Type": "application/x-tar" });
  assert.equal(garbage.status, 200);
  assert.ok((JSON.parse(garbage.text.trim()) as { error?: string }).error);
  // The server still answers on the same kind of connection afterwards.
  assert.equal((await request(t.socket, "GET", "/_ping")).text, "OK");
});

test("pull: images other than the built-in ones come from the client's registry (learned from the names it qualifies); one that cannot be reached is an error before any progress", async () => {
  const nginx = await request(t.socket, "POST", `/v1.43/images/create?fromImage=${CLIENT_DOMAIN}/library/nginx&tag=latest`);
  assert.equal(nginx.status, 500);
  assert.match((nginx.json() as { message: string }).message, new RegExp(`The registry ${CLIENT_DOMAIN.replace(".", "\\.")} cannot be reached: ENOTFOUND`));
  const tagged = await request(t.socket, "POST", `/v1.43/images/create?fromImage=${CLIENT_DOMAIN}/library/busybox&tag=1.36`);
  assert.equal(tagged.status, 500, "only busybox:latest is built in; other tags come from the registry");
  assert.equal((await request(t.socket, "POST", "/v1.43/images/create?fromSrc=-")).status, 501);
  assert.equal((await request(t.socket, "POST", "/v1.43/images/create")).status, 400);

  // The client's default registry, now learned, is dropped from tag targets, so `docker tag x me/app` means me/app.
  const r = await request(t.socket, "POST", `/v1.43/images/sample:1/tag?repo=${CLIENT_DOMAIN}/me/app&tag=3`);
  assert.equal(r.status, 201, r.text);
  assert.ok(((await request(t.socket, "GET", "/images/me/app:3/json")).json() as { RepoTags: string[] }).RepoTags.includes("me/app:3"));
  // A registry with a port is never taken for the default one.
  await request(t.socket, "POST", `/v1.43/images/sample:1/tag?repo=localhost:5000/library/x&tag=1`);
  assert.ok(((await request(t.socket, "GET", "/images/sample:1/json")).json() as { RepoTags: string[] }).RepoTags.includes("localhost:5000/library/x:1"));
});

test("events: kept events between since and until, then the stream ends; live events reach an open stream", async () => {
  const since = nowSeconds();
  assert.equal((await request(t.socket, "POST", "/v1.43/images/sample:1/tag?repo=evt&tag=1")).status, 201);
  await request(t.socket, "DELETE", "/v1.43/images/evt:1");
  const until = nowSeconds() + 0.001;
  const past = await request(t.socket, "GET", `/v1.43/events?since=${since.toFixed(9)}&until=${until.toFixed(9)}`);
  assert.equal(past.status, 200);
  const events = past.text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number });
  assert.deepEqual(
    events.map((e) => e.Action),
    ["tag", "untag", "untag"],
  );
  assert.deepEqual([events[0].Type, events[0].Actor.ID, events[0].Actor.Attributes.name, events[0].Actor.Attributes.team], ["image", imageId, "evt:1", "blue"]);
  assert.ok(/"timeNano":\d{19}\}/.test(past.text.split("\n")[0]), "timeNano is an exact integer");

  const onlyTags = await request(t.socket, "GET", `/v1.43/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ["image"], event: ["untag"] }))}`);
  assert.deepEqual(
    onlyTags.text
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { Action: string }).Action),
    ["untag", "untag"],
  );
  assert.equal((await request(t.socket, "GET", `/v1.43/events?since=${until}&until=${since}`)).status, 400);

  // Live: open a stream, tag, read the event as it happens.
  const live = await new Promise<string>((resolve, reject) => {
    const req = http.get({ socketPath: t.socket, path: `/v1.43/events?filters=${encodeURIComponent(JSON.stringify({ event: { tag: true } }))}`, headers: { Host: "docker" } }, (res) => {
      assert.equal(res.statusCode, 200);
      void request(t.socket, "POST", "/v1.43/images/sample:1/tag?repo=live&tag=1");
      res.once("data", (chunk: Buffer) => {
        req.destroy();
        resolve(chunk.toString());
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? undefined : reject(err)));
  });
  assert.equal((JSON.parse(live.trim()) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name, "live:1");
  await waitFor(() => t.engine.events.listenerCount === 0);
  assert.equal(t.engine.events.listenerCount, 0, "a closed stream unsubscribes");
});

test("prune removes dangling images only, unless all", async () => {
  // A tag moved to another image leaves the first one dangling.
  const first = await addImage(t, ["moving:1"], "e.txt");
  await addImage(t, ["moving:1"], "f.txt");
  const r = await request(t.socket, "POST", `/v1.43/images/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: { true: true } }))}`);
  assert.equal(r.status, 200, r.text);
  const body = r.json() as { ImagesDeleted: Array<{ Deleted?: string }>; SpaceReclaimed: number };
  assert.ok(body.ImagesDeleted.some((d) => d.Deleted === first));
  assert.ok(body.SpaceReclaimed > 0);
  assert.equal((await request(t.socket, "GET", "/images/moving:1/json")).status, 200, "tagged images stay");
  assert.equal((await request(t.socket, "GET", "/images/sample:1/json")).status, 200, "tagged images stay");
  const all = await request(t.socket, "POST", `/v1.43/images/prune?filters=${encodeURIComponent(JSON.stringify({ dangling: { false: true } }))}`);
  assert.ok((all.json() as { ImagesDeleted: Array<{ Deleted?: string }> }).ImagesDeleted.some((d) => d.Deleted === imageId));
  assert.equal((await request(t.socket, "GET", "/images/sample:1/json")).status, 404, "with dangling=false every unused image goes");
  assert.equal((await request(t.socket, "POST", `/v1.43/images/prune?filters=${encodeURIComponent(JSON.stringify({ until: { "24h": true } }))}`)).status, 501);
});

test("a client that goes away in the middle of a load upload fails that load only: no hang, nothing added, staging freed", async () => {
  await addImage(t, ["upload:1"], "u.txt");
  const before = await request(t.socket, "GET", "/images/json").then((r) => r.text);
  const saved = await request(t.socket, "GET", "/v1.43/images/get?names=upload:1");
  assert.equal(saved.status, 200);
  await request(t.socket, "DELETE", "/v1.43/images/upload:1");
  const afterDelete = await request(t.socket, "GET", "/images/json").then((r) => r.text);
  assert.notEqual(afterDelete, before);
  const staging = path.join(t.dir, "engine", "images", ".tmp");
  const staged = async (): Promise<number> => (await readdir(staging).catch(() => [])).length;
  await new Promise<void>((resolve) => {
    const req = http.request({
      socketPath: t.socket,
      method: "POST",
      path: "/v1.43/images/load",
      headers: { Host: "docker", "Content-Type": "application/x-tar", "Content-Length": String(saved.body.length) },
    });
    req.on("error", () => resolve());
    // Half the archive; once the engine is staging it, the client goes away.
    req.write(saved.body.subarray(0, saved.body.length >> 1), () => void waitFor(async () => (await staged()) > 0).finally(() => req.destroy()));
    req.on("close", () => resolve());
  });
  // The engine notices and frees the staging folder.
  await waitFor(async () => (await staged()) === 0);
  assert.equal((await request(t.socket, "GET", "/_ping")).text, "OK", "the server lives on");
  assert.equal(await request(t.socket, "GET", "/images/json").then((r) => r.text), afterDelete, "nothing was added");
  assert.deepEqual(await readdir(path.join(t.dir, "engine", "images", ".tmp")), [], "the half-read archive's staging folder is gone");
  // A complete upload still works afterwards.
  const loaded = await request(t.socket, "POST", "/v1.43/images/load", saved.body, { "Content-Type": "application/x-tar" });
  assert.match(loaded.text, /Loaded image: upload:1/);
});
