import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { listEngineImageNames } from "../../../../src/core/api/engine-image-names";

const dir = mkdtempSync(path.join(os.tmpdir(), "hangar-image-names-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A Docker-API-like server on a unix socket answering /images/json with `reply`. */
async function serve(name: string, reply: (res: http.ServerResponse) => void): Promise<{ socket: string; close: () => Promise<void>; paths: string[] }> {
  const socket = path.join(dir, name);
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? "");
    reply(res);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, paths, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("listEngineImageNames", () => {
  it("lists the tagged images' repo:tag names from GET /images/json", async () => {
    const images = [
      { Id: "sha256:a", RepoTags: ["busybox:latest", "hangar/busybox:1"] },
      { Id: "sha256:b", RepoTags: ["<none>:<none>"] },
      { Id: "sha256:c", RepoTags: null },
      { Id: "sha256:d", RepoTags: ["myapp:dev", "busybox:latest"] },
    ];
    const engine = await serve("ok.sock", (res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(images)));
    try {
      assert.deepEqual(await listEngineImageNames(engine.socket), ["busybox:latest", "hangar/busybox:1", "myapp:dev"]);
      assert.deepEqual(engine.paths, ["/images/json"]);
    } finally {
      await engine.close();
    }
  });

  it("gives [] when no engine listens, on an error status, and on a stalled reply", async () => {
    assert.deepEqual(await listEngineImageNames(path.join(dir, "absent.sock")), []);
    const failing = await serve("500.sock", (res) => res.writeHead(500).end("{}"));
    const stalled = await serve("stalled.sock", () => undefined);
    try {
      assert.deepEqual(await listEngineImageNames(failing.socket), []);
      const started = Date.now();
      assert.deepEqual(await listEngineImageNames(stalled.socket, 300), []);
      assert.ok(Date.now() - started < 2000, "the timeout ends the wait");
    } finally {
      await failing.close();
      stalled.close().catch(() => undefined);
    }
  });
});
