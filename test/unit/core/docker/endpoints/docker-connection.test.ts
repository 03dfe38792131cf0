// connectDocker's clients against small real API servers (unix socket and
// tcp), and describeDockerError's one-line messages for the errors those
// real connections produce. (EACCES and timeouts cannot be provoked here:
// the tests may run as root, and waiting out a timeout is slow; those use
// error objects shaped like node's.)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { connectDocker, describeDockerError, EndpointFileError } from "../../../../../src/core/docker/endpoints/docker-connection";
import { DockerHostError, type DockerEndpoint } from "../../../../../src/core/docker/endpoints/docker-endpoint";
import { SshEndpointError } from "../../../../../src/core/docker/endpoints/ssh-dial-stdio";

const dir = mkdtempSync(path.join(os.tmpdir(), "hangar-connection-"));
const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (host: string, more: Partial<DockerEndpoint> = {}): DockerEndpoint => ({ id: "setting:t", name: "t", host, source: "setting", ...more });

/** A tiny Docker-API-like server: /_ping, /images/json, an /events stream that never ends, and errors. */
async function apiServer(listen: (s: http.Server) => void): Promise<{ server: http.Server; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.url === "/_ping") return void res.end("OK");
    if (req.url?.startsWith("/images/json")) return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ Id: "sha256:1", RepoTags: ["busybox:latest"] }]));
    if (req.url?.startsWith("/events")) return void res.writeHead(200, { "content-type": "application/json" }).flushHeaders();
    if (req.url?.startsWith("/images/missing")) return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "No such image: missing:latest" }));
    res.writeHead(500, { "content-type": "text/plain" }).end("engine exploded\n");
  });
  servers.push(server);
  listen(server);
  await new Promise((r) => server.once("listening", r));
  return { server, paths };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("the request succeeded");
}

describe("connectDocker", () => {
  it("talks to a unix socket, and dispose() ends an open events stream", async () => {
    const sock = path.join(dir, "api.sock");
    const { paths } = await apiServer((s) => s.listen(sock));
    const c = connectDocker(endpoint(`unix://${sock}`));
    assert.equal(String(await c.docker.ping()), "OK");
    assert.deepEqual(
      (await c.docker.listImages()).map((i) => i.RepoTags),
      [["busybox:latest"]],
    );
    const events = (await c.docker.getEvents()) as Readable;
    const closed = new Promise((r) => events.once("close", r));
    c.dispose();
    await closed;
    assert.deepEqual(paths.slice(0, 2), ["GET /_ping", "GET /images/json"]);
  });

  it("talks plain http to tcp://host:port", async () => {
    const { server } = await apiServer((s) => s.listen(0, "127.0.0.1"));
    const port = (server.address() as net.AddressInfo).port;
    const c = connectDocker(endpoint(`tcp://127.0.0.1:${port}`));
    assert.equal(String(await c.docker.ping()), "OK");
    c.dispose();
  });

  it("means the endpoint, not this process's DOCKER_HOST / DOCKER_CERT_PATH (which docker-modem would fold in)", async () => {
    const sock = path.join(dir, "env.sock");
    await apiServer((s) => s.listen(sock));
    const saved = { ...process.env };
    Object.assign(process.env, { DOCKER_HOST: "tcp://192.0.2.1:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: path.join(dir, "no-certs-here") });
    try {
      const c = connectDocker(endpoint(`unix://${sock}`));
      assert.equal(process.env.DOCKER_HOST, "tcp://192.0.2.1:2376", "the environment is put back");
      assert.equal(String(await c.docker.ping()), "OK");
      c.dispose();
    } finally {
      for (const k of ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("throws for a host that does not parse and for a TLS file it cannot read", () => {
    assert.throws(() => connectDocker(endpoint("tcp://host:99999")), DockerHostError);
    assert.throws(
      () => connectDocker(endpoint("tcp://127.0.0.1:2376", { tls: { ca: path.join(dir, "missing-ca.pem"), verify: true } })),
      (err: unknown) => err instanceof EndpointFileError && /cannot read the TLS CA certificate .*missing-ca\.pem \(ENOENT/.test(err.message),
    );
  });
});

describe("describeDockerError", () => {
  it("a socket that does not exist", async () => {
    const e = endpoint(`unix://${path.join(dir, "nothing.sock")}`);
    const err = await failure(connectDocker(e).docker.ping());
    assert.equal(describeDockerError(err, e), `No Docker Engine at ${e.host}: the socket does not exist. Start the engine, or choose another endpoint.`);
  });

  it("a socket file nobody listens on (refused)", async () => {
    const file = path.join(dir, "stale.sock");
    writeFileSync(file, "");
    const e = endpoint(`unix://${file}`);
    const err = await failure(connectDocker(e).docker.ping());
    assert.match(describeDockerError(err, e), /^No Docker Engine at unix:\/\/.*stale\.sock: the socket refused the connection/);
  });

  it("an API error is the API's message, JSON or plain text", async () => {
    const sock = path.join(dir, "errors.sock");
    await apiServer((s) => s.listen(sock));
    const e = endpoint(`unix://${sock}`);
    const c = connectDocker(e);
    assert.equal(describeDockerError(await failure(c.docker.getImage("missing").inspect()), e), "No such image: missing:latest");
    assert.equal(describeDockerError(await failure(c.docker.getContainer("x").inspect()), e), "engine exploded");
    c.dispose();
  });

  it("errors shaped like node's for what cannot be provoked here", () => {
    const unix = endpoint("unix:///var/run/docker.sock");
    const tcp = endpoint("tcp://build:2376", { tls: { ca: "/certs/ca.pem", verify: true } });
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    assert.match(describeDockerError(err("EACCES"), unix), /^Permission denied opening unix:\/\/\/var\/run\/docker\.sock\. Add your user to the "docker" group/);
    assert.equal(describeDockerError(err("ETIMEDOUT"), tcp), "Timed out reaching tcp://build:2376. Check that the host is up and reachable from here.");
    assert.match(describeDockerError(err("ENOTFOUND"), tcp), /unknown host name/);
    assert.match(describeDockerError(err("ECONNREFUSED"), tcp), /^No Docker Engine at tcp:\/\/build:2376: connection refused/);
    assert.match(describeDockerError(err("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), tcp), /not signed by a trusted CA \(\/certs\/ca\.pem\)/);
    assert.match(describeDockerError(err("CERT_HAS_EXPIRED"), tcp), /not valid now/);
    assert.match(describeDockerError(err("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), tcp), /does not speak TLS/);
    assert.match(
      describeDockerError(Object.assign(new Error("All configured authentication methods failed"), { level: "client-authentication" }), endpoint("ssh://me@h")),
      /^ssh:\/\/me@h: SSH login failed/,
    );
    assert.equal(describeDockerError(new SshEndpointError("ssh://me@h:22: the connection was closed.", undefined, "closed"), endpoint("ssh://me@h")), "ssh://me@h:22: the connection was closed.");
    assert.equal(describeDockerError("weird\nthing", tcp), "tcp://build:2376: weird thing");
  });
});
