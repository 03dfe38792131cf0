// connectDocker against real servers: a real Hangar engine on its unix
// socket; the same engine behind a real TLS server (certificates made by the
// openssl CLI, client certificates required); and behind a real OpenSSH
// server whose sessions run the real docker CLI's `docker system dial-stdio`
// towards the engine, as a remote Docker host would. Plus the messages a
// user sees when an endpoint is lost or refuses them.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { connectDocker, describeDockerError, type DockerConnection } from "../../../src/core/docker/endpoints/docker-connection";
import type { DockerEndpoint } from "../../../src/core/docker/endpoints/docker-endpoint";
import { discoverEndpoints } from "../../../src/core/docker/endpoints/endpoint-discovery";
import { SshDialStdioAgent } from "../../../src/core/docker/endpoints/ssh-dial-stdio";
import { EngineUnderTest } from "../fixtures/engine-under-test";
import { freePort, makeKey, OpenSshServer, SSHD, sshdInstalled } from "../fixtures/openssh-server";

const exec = promisify(execFile);

let engine: EngineUnderTest | undefined;
let socket = "";
let dir = "";
const connections: DockerConnection[] = [];

/** A connection closed after the file's tests, whatever happens in them. */
function connect(endpoint: DockerEndpoint): DockerConnection {
  const c = connectDocker(endpoint);
  connections.push(c);
  return c;
}

function endpoint(host: string, more: Partial<DockerEndpoint> = {}): DockerEndpoint {
  return { id: `setting:${host}`, name: host, host, source: "setting", ...more };
}

async function assertHasBusybox(c: DockerConnection): Promise<void> {
  const images = await c.docker.listImages();
  assert.ok(
    images.some((i) => i.RepoTags?.includes("busybox:latest")),
    `busybox:latest among ${JSON.stringify(images)}`,
  );
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("the request succeeded");
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hangar-endpoints-system-"));
  engine = await EngineUnderTest.start();
  socket = path.join(engine.home, "docker.sock");
  // The engine's built-in busybox image exists once pulled (made from Debian's busybox-static).
  const c = connect(endpoint(`unix://${socket}`));
  const progress = await c.docker.pull("busybox:latest");
  await new Promise<void>((resolve, reject) => c.docker.modem.followProgress(progress, (err) => (err ? reject(err) : resolve())));
});

after(async () => {
  for (const c of connections) c.dispose();
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the embedded engine on its unix socket", () => {
  test("ping, version and images", async () => {
    const c = connect({ id: "embedded", name: "Hangar (embedded)", host: `unix://${socket}`, source: "embedded" });
    assert.equal(String(await c.docker.ping()), "OK");
    const version = await c.docker.version();
    assert.equal(version.ApiVersion, "1.43");
    assert.equal(version.Os, "linux");
    await assertHasBusybox(c);
  });

  test("an API error is the API's message", async () => {
    const c = connect(endpoint(`unix://${socket}`));
    const err = await failure(c.docker.getImage("no-such-image:1").inspect());
    assert.equal((err as { statusCode?: number }).statusCode, 404);
    assert.match(describeDockerError(err, c.endpoint), /^No such image: no-such-image:1$/);
  });

  test("dispose() ends an open events stream (the client's own agent carries the requests)", async () => {
    const c = connectDocker(endpoint(`unix://${socket}`));
    const events = (await c.docker.getEvents()) as Readable;
    const closed = new Promise((r) => events.once("close", r));
    c.dispose();
    await closed;
    assert.ok(events.destroyed);
  });
});

describe("tcp with TLS, client certificates required", () => {
  let certs = "";
  let server: tls.Server | undefined;
  let port = 0;

  async function openssl(args: string[]): Promise<void> {
    await exec("openssl", args, { cwd: certs });
  }

  async function makeCa(name: string): Promise<void> {
    await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}-key.pem`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`]);
  }

  async function makeCert(name: string, ca: string, ext: string): Promise<void> {
    await writeFile(path.join(certs, `${name}.ext`), ext);
    await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}-key.pem`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
    await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
  }

  const pem = (name: string) => path.join(certs, `${name}.pem`);

  before(async () => {
    certs = path.join(dir, "certs");
    mkdirSync(certs);
    await makeCa("ca");
    await makeCa("other-ca");
    await makeCert("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    await makeCert("client", "ca", "extendedKeyUsage=clientAuth\n");
    // The docker daemon's --tlsverify set-up: only clients with a certificate from the CA get through.
    server = tls.createServer({ key: await readFile(pem("server-key")), cert: await readFile(pem("server")), ca: await readFile(pem("ca")), requestCert: true, rejectUnauthorized: true }, (client) => {
      const upstream = net.connect(socket);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    server.on("tlsClientError", () => undefined);
    server.listen(0, "127.0.0.1");
    await new Promise((r) => server!.once("listening", r));
    port = (server.address() as net.AddressInfo).port;
  });

  after(() => {
    server?.close();
  });

  test("verified, with a client certificate: images", async () => {
    const c = connect(endpoint(`tcp://127.0.0.1:${port}`, { tls: { ca: pem("ca"), cert: pem("client"), key: pem("client-key"), verify: true } }));
    assert.equal(String(await c.docker.ping()), "OK");
    await assertHasBusybox(c);
  });

  test("a CA that did not sign the server's certificate fails with a TLS message", async () => {
    const e = endpoint(`tcp://127.0.0.1:${port}`, { tls: { ca: pem("other-ca"), cert: pem("client"), key: pem("client-key"), verify: true } });
    const err = await failure(connect(e).docker.listImages());
    const message = describeDockerError(err, e);
    assert.match(message, /^TLS: the certificate of tcp:\/\/127\.0\.0\.1:\d+ is not signed by a trusted CA \(.*other-ca\.pem\)/, message);
  });

  test("verify: false accepts the same server despite the wrong CA", async () => {
    const c = connect(endpoint(`tcp://127.0.0.1:${port}`, { tls: { ca: pem("other-ca"), cert: pem("client"), key: pem("client-key"), verify: false } }));
    await assertHasBusybox(c);
  });

  test("without a client certificate the engine's refusal is explained", async () => {
    const e = endpoint(`tcp://127.0.0.1:${port}`, { tls: { ca: pem("ca"), verify: true } });
    const err = await failure(connect(e).docker.ping());
    const message = describeDockerError(err, e);
    assert.match(message, /^TLS: tcp:\/\/127\.0\.0\.1:\d+ rejected this client's certificate \[ERR_SSL_\w+\]\. Give the endpoint a client certificate/, message);
  });

  test("plain tcp to the TLS port says so", async () => {
    const e = endpoint(`tcp://127.0.0.1:${port}`);
    const err = await failure(connect(e).docker.ping());
    assert.equal(describeDockerError(err, e), `tcp://127.0.0.1:${port} closed the connection before answering (does it expect TLS?).`);
  });

  test("when the server goes away: connection refused", async () => {
    const e = endpoint(`tcp://127.0.0.1:${port}`, { tls: { ca: pem("ca"), cert: pem("client"), key: pem("client-key"), verify: true } });
    await new Promise((r) => server!.close(r));
    server = undefined;
    const err = await failure(connect(e).docker.ping());
    assert.equal(describeDockerError(err, e), `No Docker Engine at tcp://127.0.0.1:${port}: connection refused. Check that the engine is running and listens on that port.`);
  });
});

describe("ssh:// through a real OpenSSH server and the remote docker CLI", { skip: sshdInstalled() ? false : `${SSHD} is not installed (apt-get install openssh-server)` }, () => {
  let sshd: OpenSshServer | undefined;
  let port = 0;
  let keys = "";
  const user = os.userInfo().username;
  const log = (): string => sshd?.log ?? "";
  const waitForLog = (re: RegExp, ms: number, from = 0): Promise<RegExpExecArray> => sshd!.waitForLog(re, ms, from);

  before(async () => {
    keys = path.join(dir, "ssh");
    mkdirSync(keys, { mode: 0o700 });
    for (const k of ["client_key", "wrong_key", "nodocker_key"]) await makeKey(path.join(keys, k));
    await makeKey(path.join(keys, "locked_key"), "locked_key", "a passphrase");
    const pub = (k: string) => readFile(path.join(keys, `${k}.pub`), "utf8").then((s) => s.trim());
    const dockerConfig = path.join(keys, "docker-config");
    mkdirSync(dockerConfig);
    // The third key logs in to a session whose PATH has no docker: what a host without the docker CLI answers.
    sshd = await OpenSshServer.start({
      dir: keys,
      authorizedKeys: `${await pub("client_key")}\ncommand="PATH=/nonexistent; docker system dial-stdio" ${await pub("nodocker_key")}\n`,
      env: { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig },
    });
    port = sshd.port;
  });

  after(async () => {
    // Clients first, so the per-connection sshd processes end with their sessions.
    for (const c of connections.splice(0)) c.dispose();
    await sshd?.stop();
  });

  const sshEndpoint = (key: string) => endpoint(`ssh://${user}@127.0.0.1:${port}`, { identityFile: path.join(keys, key) });

  test("ping and images", async () => {
    const c = connect(sshEndpoint("client_key"));
    assert.equal(String(await c.docker.ping()), "OK");
    await assertHasBusybox(c);
  });

  test("concurrent requests share one login: an open events stream plus lists", async () => {
    const from = log().length;
    const c = connect(sshEndpoint("client_key"));
    const events = (await c.docker.getEvents()) as Readable;
    try {
      const [containers, images, info] = await Promise.all([c.docker.listContainers({ all: true }), c.docker.listImages(), c.docker.version()]);
      assert.ok(Array.isArray(containers));
      assert.ok(images.some((i) => i.RepoTags?.includes("busybox:latest")));
      assert.equal(info.ApiVersion, "1.43");
      assert.equal(events.destroyed, false, "the events stream is still open");
      const logins =
        log()
          .slice(from)
          .match(/Accepted publickey for /g) ?? [];
      assert.equal(logins.length, 1, `one SSH login for four requests:\n${log().slice(from)}`);
    } finally {
      events.destroy();
    }
  });

  test("dispose() ends the SSH connection", async () => {
    const from = log().length;
    const c = connectDocker(sshEndpoint("client_key"));
    await c.docker.ping();
    const [, clientPort] = await waitForLog(/Accepted publickey for \S+ from 127\.0\.0\.1 port (\d+)/, 30_000, from);
    c.dispose();
    await waitForLog(new RegExp(`(Disconnected from user \\S+|Received disconnect from|Connection closed by) 127\\.0\\.0\\.1 port ${clientPort}\\b`), 30_000, from);
    const err = await failure(c.docker.ping());
    assert.match(describeDockerError(err, c.endpoint), /the connection was closed/);
  });

  test("a key the server does not know: an SSH login message", async () => {
    const e = sshEndpoint("wrong_key");
    const err = await failure(connect(e).docker.ping());
    const message = describeDockerError(err, e);
    assert.match(message, /^ssh:\/\/\S+@127\.0\.0\.1:\d+: SSH login failed: the server accepted none of the identity file .*wrong_key\./, message);
  });

  test("no docker CLI on the remote: its stderr and exit code, not a hang", async () => {
    const e = sshEndpoint("nodocker_key");
    const err = await failure(connect(e).docker.ping());
    const message = describeDockerError(err, e);
    assert.match(message, /`docker system dial-stdio` failed on the remote \(exit code 127\): .*docker: (command )?not found.*Install the docker CLI/, message);
  });

  test("without an identityFile: the keys of a real ssh-agent, else ~/.ssh/id_ed25519", async () => {
    const ping = async (agent: SshDialStdioAgent) => {
      try {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: "docker", path: "/_ping", agent }, resolve).on("error", reject));
        let body = "";
        for await (const chunk of res) body += chunk;
        return body;
      } finally {
        agent.dispose();
      }
    };
    const agentSocket = path.join(keys, "agent.sock");
    const sshAgent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(agentSocket); i++) await new Promise((r) => setTimeout(r, 100));
      await exec("ssh-add", [path.join(keys, "client_key")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
      const emptyHome = path.join(keys, "empty-home");
      mkdirSync(emptyHome, { recursive: true });
      assert.equal(await ping(new SshDialStdioAgent({ host: "127.0.0.1", port, username: user, env: { SSH_AUTH_SOCK: agentSocket }, homedir: emptyHome })), "OK");
    } finally {
      sshAgent.kill("SIGTERM");
    }
    const home = path.join(keys, "home");
    mkdirSync(path.join(home, ".ssh"), { recursive: true });
    await copyFile(path.join(keys, "client_key"), path.join(home, ".ssh", "id_ed25519"));
    assert.equal(await ping(new SshDialStdioAgent({ host: "127.0.0.1", port, username: user, env: {}, homedir: home })), "OK");
    await assert.rejects(
      ping(new SshDialStdioAgent({ host: "127.0.0.1", port, username: user, env: {}, homedir: path.join(keys, "nowhere") })),
      /SSH login failed: the server accepted none of no key \(no identityFile, no SSH_AUTH_SOCK/,
    );
  });

  test("a key with a passphrase: use an agent instead", async () => {
    const e = sshEndpoint("locked_key");
    const message = describeDockerError(await failure(connect(e).docker.ping()), e);
    assert.match(message, /cannot use the SSH key .*passphrase.*ssh-add/, message);
  });

  test("no SSH server on the port: connection refused", async () => {
    const e = endpoint(`ssh://${user}@127.0.0.1:${await freePort()}`, { identityFile: path.join(keys, "client_key") });
    const message = describeDockerError(await failure(connect(e).docker.ping()), e);
    assert.match(message, /cannot connect over SSH: connection refused/, message);
  });
});

describe("a lost endpoint", () => {
  test("a socket that does not exist: a clear message, and discovery does not throw", async () => {
    const missing = path.join(dir, "gone", "docker.sock");
    const found = await discoverEndpoints({ hangarHome: dir, env: {}, homedir: dir, localSocket: missing, configured: [{ name: "gone", host: `unix://${missing}` }] });
    const gone = found.find((e) => e.id === "setting:gone");
    assert.ok(gone);
    const err = await failure(connect(gone).docker.ping());
    assert.equal(describeDockerError(err, gone), `No Docker Engine at unix://${missing}: the socket does not exist. Start the engine, or choose another endpoint.`);
  });
});
