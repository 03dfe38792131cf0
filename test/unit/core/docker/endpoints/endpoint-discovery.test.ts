// discoverEndpoints against a temporary HOME / DOCKER_CONFIG holding real
// docker context folders, laid out the way `docker context create` writes
// them: contexts/meta/<sha256 of the name>/meta.json and
// contexts/tls/<same>/docker/{ca,cert,key}.pem.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { connectDocker } from "../../../../../src/core/docker/endpoints/docker-connection";
import { DockerHostError } from "../../../../../src/core/docker/endpoints/docker-endpoint";
import { discoverEndpoints } from "../../../../../src/core/docker/endpoints/endpoint-discovery";

const root = mkdtempSync(path.join(os.tmpdir(), "hangar-endpoints-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh home with ~/.docker, and the Hangar home inside it. */
function freshHome(): { home: string; hangarHome: string; dockerDir: string; missingSocket: string } {
  const home = path.join(root, `home-${++n}`);
  const dockerDir = path.join(home, ".docker");
  mkdirSync(dockerDir, { recursive: true });
  return { home, hangarHome: path.join(home, ".hangar"), dockerDir, missingSocket: path.join(home, "no-docker.sock") };
}

function writeContext(configDir: string, name: string, host: string, o: { skipTLSVerify?: boolean; tls?: ("ca" | "cert" | "key")[]; raw?: string } = {}): string {
  const dir = createHash("sha256").update(name).digest("hex");
  const meta = path.join(configDir, "contexts", "meta", dir);
  mkdirSync(meta, { recursive: true });
  const json = { Name: name, Metadata: { Description: `${name} context` }, Endpoints: { docker: { Host: host, SkipTLSVerify: o.skipTLSVerify ?? false } } };
  writeFileSync(path.join(meta, "meta.json"), o.raw ?? JSON.stringify(json));
  const tlsDir = path.join(configDir, "contexts", "tls", dir, "docker");
  for (const f of o.tls ?? []) {
    mkdirSync(tlsDir, { recursive: true });
    writeFileSync(path.join(tlsDir, `${f}.pem`), `-----BEGIN ${f}-----\n`, { mode: 0o600 });
  }
  return tlsDir;
}

describe("discoverEndpoints", () => {
  it("lists only the embedded engine when the user has no Docker set-up", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, platform: "linux", localSocket: h.missingSocket });
    assert.deepEqual(found, [{ id: "embedded", name: "Hangar (embedded)", host: `unix://${path.join(h.hangarHome, "docker.sock")}`, source: "embedded" }]);
  });

  it("names the embedded engine's named pipe and docker_engine's pipe on Windows", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, platform: "win32" });
    assert.equal(found[0].host, "npipe:////./pipe/hangar-docker-engine");
    assert.equal(found.length, 1, "no docker_engine pipe on this machine");
  });

  it("lists the local socket only when it exists", async () => {
    const h = freshHome();
    const sock = path.join(h.home, "docker.sock");
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once("listening", r));
    try {
      const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, localSocket: sock });
      assert.deepEqual(found[1], { id: "local", name: "Local Docker", host: `unix://${sock}`, source: "local" });
    } finally {
      server.close();
    }
    const gone = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, localSocket: sock });
    assert.deepEqual(
      gone.map((e) => e.id),
      ["embedded"],
    );
  });

  it("takes DOCKER_HOST as it is, without TLS unless DOCKER_TLS_VERIFY or DOCKER_TLS says so", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: { DOCKER_HOST: "tcp://10.1.2.3:2375", DOCKER_CERT_PATH: h.dockerDir }, homedir: h.home, localSocket: h.missingSocket });
    assert.deepEqual(found[1], { id: "environment", name: "DOCKER_HOST", host: "tcp://10.1.2.3:2375", source: "environment" });
  });

  it("DOCKER_TLS_VERIFY uses DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem (those that exist)", async () => {
    const h = freshHome();
    const certs = path.join(h.home, "certs");
    mkdirSync(certs);
    for (const f of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(path.join(certs, f), "x");
    const found = await discoverEndpoints({
      hangarHome: h.hangarHome,
      env: { DOCKER_HOST: "tcp://10.1.2.3:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs },
      homedir: h.home,
      localSocket: h.missingSocket,
    });
    assert.deepEqual(found[1].tls, { ca: path.join(certs, "ca.pem"), cert: path.join(certs, "cert.pem"), key: path.join(certs, "key.pem"), verify: true });

    rmSync(path.join(certs, "ca.pem"));
    const noCa = await discoverEndpoints({
      hangarHome: h.hangarHome,
      env: { DOCKER_HOST: "tcp://10.1.2.3:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs },
      homedir: h.home,
      localSocket: h.missingSocket,
    });
    assert.deepEqual(noCa[1].tls, { cert: path.join(certs, "cert.pem"), key: path.join(certs, "key.pem"), verify: true });
  });

  it("without DOCKER_CERT_PATH the certificates come from ~/.docker (or DOCKER_CONFIG); DOCKER_TLS alone does not verify", async () => {
    const h = freshHome();
    writeFileSync(path.join(h.dockerDir, "ca.pem"), "x");
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: { DOCKER_HOST: "tcp://10.1.2.3", DOCKER_TLS_VERIFY: "yes" }, homedir: h.home, localSocket: h.missingSocket });
    assert.deepEqual(found[1].tls, { ca: path.join(h.dockerDir, "ca.pem"), verify: true });

    const config = path.join(h.home, "other-config");
    mkdirSync(config);
    writeFileSync(path.join(config, "key.pem"), "x");
    const viaConfig = await discoverEndpoints({
      hangarHome: h.hangarHome,
      env: { DOCKER_HOST: "tcp://10.1.2.3", DOCKER_TLS: "1", DOCKER_CONFIG: config },
      homedir: h.home,
      localSocket: h.missingSocket,
    });
    assert.deepEqual(viaConfig[1].tls, { key: path.join(config, "key.pem"), verify: false });
  });

  it("reads docker contexts (TLS files, SkipTLSVerify), skips default, broken and unreadable ones without throwing", async () => {
    const h = freshHome();
    writeContext(h.dockerDir, "default", "unix:///var/run/docker.sock");
    writeContext(h.dockerDir, "remote-ssh", "ssh://deploy@build-1");
    const tlsDir = writeContext(h.dockerDir, "prod", "tcp://prod.example:2376", { tls: ["ca", "cert", "key"] });
    writeContext(h.dockerDir, "lab", "tcp://lab.example:2376", { skipTLSVerify: true });
    const halfTls = writeContext(h.dockerDir, "half", "tcp://half.example:2376", { tls: ["ca"], skipTLSVerify: true });
    writeContext(h.dockerDir, "broken-json", "", { raw: "{ not json" });
    writeContext(h.dockerDir, "no-docker", "", { raw: JSON.stringify({ Name: "no-docker", Endpoints: {} }) });
    writeContext(h.dockerDir, "null", "", { raw: "null" });
    writeContext(h.dockerDir, "host-not-string", "", { raw: JSON.stringify({ Name: "x", Endpoints: { docker: { Host: 5 } } }) });
    mkdirSync(path.join(h.dockerDir, "contexts", "meta", "empty-dir"));
    const unreadable = path.join(h.dockerDir, "contexts", "meta", "a-dir-not-a-file");
    mkdirSync(path.join(unreadable, "meta.json"), { recursive: true });
    writeFileSync(path.join(h.dockerDir, "contexts", "meta", "stray-file"), "x");

    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, localSocket: h.missingSocket });
    assert.deepEqual(found.slice(1), [
      { id: "context:half", name: "half", host: "tcp://half.example:2376", source: "context", tls: { ca: path.join(halfTls, "ca.pem"), verify: false } },
      { id: "context:lab", name: "lab", host: "tcp://lab.example:2376", source: "context", tls: { verify: false } },
      {
        id: "context:prod",
        name: "prod",
        host: "tcp://prod.example:2376",
        source: "context",
        tls: { ca: path.join(tlsDir, "ca.pem"), cert: path.join(tlsDir, "cert.pem"), key: path.join(tlsDir, "key.pem"), verify: true },
      },
      { id: "context:remote-ssh", name: "remote-ssh", host: "ssh://deploy@build-1", source: "context" },
    ]);
  });

  it("reads contexts from DOCKER_CONFIG instead of ~/.docker when it is set", async () => {
    const h = freshHome();
    writeContext(h.dockerDir, "in-home", "tcp://a.example:2375");
    const config = path.join(h.home, "cfg");
    writeContext(config, "in-config", "tcp://b.example:2375");
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: { DOCKER_CONFIG: config }, homedir: h.home, localSocket: h.missingSocket });
    assert.deepEqual(
      found.map((e) => e.id),
      ["embedded", "context:in-config"],
    );
  });

  it("a missing or unreadable docker config folder is no error", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: { DOCKER_CONFIG: path.join(h.home, "nowhere") }, homedir: h.home, localSocket: h.missingSocket });
    assert.equal(found.length, 1);
  });

  it("lists configured endpoints last, TLS verifying unless turned off, ~ expanded", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({
      hangarHome: h.hangarHome,
      env: {},
      homedir: h.home,
      localSocket: h.missingSocket,
      configured: [
        { name: "build box", host: "ssh://ci@build-2:2200", identityFile: "~/.ssh/build_key" },
        { name: "lab", host: "tcp://lab:2376", tls: { ca: "~/lab/ca.pem", cert: "/etc/lab/cert.pem" } },
        { name: "lab-insecure", host: "tcp://lab2:2376", tls: { verify: false } },
      ],
    });
    assert.deepEqual(found.slice(1), [
      { id: "setting:build box", name: "build box", host: "ssh://ci@build-2:2200", source: "setting", identityFile: path.join(h.home, ".ssh/build_key") },
      { id: "setting:lab", name: "lab", host: "tcp://lab:2376", source: "setting", tls: { ca: path.join(h.home, "lab/ca.pem"), cert: "/etc/lab/cert.pem", verify: true } },
      { id: "setting:lab-insecure", name: "lab-insecure", host: "tcp://lab2:2376", source: "setting", tls: { verify: false } },
    ]);
  });

  it("keeps a configured endpoint whose host does not parse; connecting to it throws the parse error", async () => {
    const h = freshHome();
    const found = await discoverEndpoints({ hangarHome: h.hangarHome, env: {}, homedir: h.home, localSocket: h.missingSocket, configured: [{ name: "typo", host: "htp://x:2375" }] });
    assert.equal(found[1].id, "setting:typo");
    assert.throws(
      () => connectDocker(found[1]),
      (err: unknown) => err instanceof DockerHostError && /unknown scheme "htp:\/\/"/.test(err.message),
    );
  });

  it("drops duplicate addresses however spelled, keeping the first (embedded before DOCKER_HOST before contexts before settings)", async () => {
    const h = freshHome();
    const embedded = `unix://${path.join(h.hangarHome, "docker.sock")}`;
    writeContext(h.dockerDir, "hangar", embedded);
    writeContext(h.dockerDir, "same-as-env", "tcp://10.1.2.3:2375");
    writeContext(h.dockerDir, "unique", "tcp://10.9.9.9:2375");
    const found = await discoverEndpoints({
      hangarHome: h.hangarHome,
      env: { DOCKER_HOST: `unix://${h.hangarHome}//docker.sock` },
      homedir: h.home,
      localSocket: h.missingSocket,
      configured: [
        { name: "env-again", host: "10.1.2.3" },
        { name: "unique", host: "tcp://10.9.9.9" },
        { name: "mine", host: "ssh://me@box" },
        { name: "mine", host: "ssh://me@other-box" },
      ],
    });
    assert.deepEqual(
      found.map((e) => `${e.id} ${e.host}`),
      [`embedded ${embedded}`, "context:same-as-env tcp://10.1.2.3:2375", "context:unique tcp://10.9.9.9:2375", "setting:mine ssh://me@box"],
    );
  });
});
