// composeEnvironment points a Compose client at an endpoint with the docker
// CLI's variables, dropping any inherited ones that would point elsewhere,
// and refuses TLS files Compose cannot take (not one folder of ca/cert/key.pem).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeEnvironment } from "../../../../src/core/compose/compose-environment";
import { HangarError } from "../../../../src/core/util/errors";

describe("composeEnvironment", () => {
  const base = { PATH: "/usr/bin", DOCKER_CONTEXT: "elsewhere", DOCKER_HOST: "tcp://old:2375", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/old" };

  it("sets DOCKER_HOST and nothing else of the old endpoint", () => {
    const env = composeEnvironment({ id: "embedded", name: "Hangar (embedded)", host: "unix:///h/docker.sock", source: "embedded" }, base);
    assert.equal(env.DOCKER_HOST, "unix:///h/docker.sock");
    assert.equal(env.PATH, "/usr/bin");
    for (const k of ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"]) assert.equal(env[k], undefined, k);
    assert.equal(env.COMPOSE_HTTP_TIMEOUT, "600");
    assert.equal(composeEnvironment({ id: "local", name: "Local", host: "unix:///var/run/docker.sock", source: "local" }, { COMPOSE_HTTP_TIMEOUT: "30" }).COMPOSE_HTTP_TIMEOUT, "30");
  });

  it("passes TLS as DOCKER_CERT_PATH with verification or without", () => {
    const tls = { ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" };
    const verified = composeEnvironment({ id: "s", name: "s", host: "tcp://h:2376", source: "setting", tls: { ...tls, verify: true } }, {});
    assert.deepEqual([verified.DOCKER_CERT_PATH, verified.DOCKER_TLS_VERIFY, verified.DOCKER_TLS], ["/c", "1", undefined]);
    const unverified = composeEnvironment({ id: "s", name: "s", host: "tcp://h:2376", source: "setting", tls: { ...tls, verify: false } }, {});
    assert.deepEqual([unverified.DOCKER_TLS_VERIFY, unverified.DOCKER_TLS], [undefined, "1"]);
  });

  it("refuses TLS files in two folders or under other names, saying what to do", () => {
    for (const tls of [
      { ca: "/a/ca.pem", cert: "/b/cert.pem", verify: true },
      { cert: "/a/client.crt", key: "/a/client.key", verify: true },
    ]) {
      assert.throws(
        () => composeEnvironment({ id: "s", name: "prod", host: "tcp://h:2376", source: "setting", tls }, {}),
        (err: Error) => err instanceof HangarError && /"prod"/.test(err.message) && /ca\.pem, cert\.pem and key\.pem/.test(err.message),
      );
    }
  });
});
