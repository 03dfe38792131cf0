// parseDockerHost reads addresses the way the docker CLI does, and bad ones
// fail with a DockerHostError that names the address and says what to write.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerHostKey, DockerHostError, parseDockerHost } from "../../../../../src/core/docker/endpoints/docker-endpoint";
import { HangarError } from "../../../../../src/core/util/errors";

describe("parseDockerHost", () => {
  const good: [string, ReturnType<typeof parseDockerHost>, { tls?: boolean }?][] = [
    ["unix:///var/run/docker.sock", { kind: "unix", path: "/var/run/docker.sock" }],
    ["unix://", { kind: "unix", path: "/var/run/docker.sock" }],
    ["  unix:///home/u/.hangar/docker.sock  ", { kind: "unix", path: "/home/u/.hangar/docker.sock" }],
    ["npipe:////./pipe/docker_engine", { kind: "npipe", path: "\\\\.\\pipe\\docker_engine" }],
    ["npipe:////./pipe/hangar-docker-engine", { kind: "npipe", path: "\\\\.\\pipe\\hangar-docker-engine" }],
    ["npipe://", { kind: "npipe", path: "\\\\.\\pipe\\docker_engine" }],
    ["tcp://10.0.0.5:2375", { kind: "tcp", host: "10.0.0.5", port: 2375 }],
    ["tcp://docker.example:4243/", { kind: "tcp", host: "docker.example", port: 4243 }],
    ["tcp://10.0.0.5", { kind: "tcp", host: "10.0.0.5", port: 2375 }],
    ["tcp://10.0.0.5", { kind: "tcp", host: "10.0.0.5", port: 2376 }, { tls: true }],
    ["TCP://Host:1234", { kind: "tcp", host: "Host", port: 1234 }],
    ["tcp://[::1]:2376", { kind: "tcp", host: "::1", port: 2376 }],
    ["10.0.0.5:2375", { kind: "tcp", host: "10.0.0.5", port: 2375 }],
    ["tcp://", { kind: "tcp", host: "localhost", port: 2375 }],
    ["ssh://deploy@build-1", { kind: "ssh", user: "deploy", host: "build-1", port: 22 }],
    ["ssh://deploy@build-1:2222", { kind: "ssh", user: "deploy", host: "build-1", port: 2222 }],
    ["ssh://build-1", { kind: "ssh", host: "build-1", port: 22 }],
    ["ssh://me@[::1]:22", { kind: "ssh", user: "me", host: "::1", port: 22 }],
  ];
  for (const [host, expected, o] of good) {
    it(`reads ${JSON.stringify(host)}${o?.tls ? " with TLS" : ""}`, () => assert.deepEqual(parseDockerHost(host, o), expected));
  }

  const bad: [string, RegExp][] = [
    ["", /is empty/],
    ["   ", /is empty/],
    ["unix://docker.sock", /absolute socket path.*three slashes/],
    ["npipe://docker_engine", /not a named pipe path.*npipe:\/\/\/\/\.\/pipe\/docker_engine/],
    ["http://10.0.0.5:2375", /uses http:\/\/.*Write tcp:\/\/10\.0\.0\.5:2375 instead/],
    ["https://10.0.0.5:2376", /Write tcp:\/\/10\.0\.0\.5:2376 instead and turn TLS on/],
    ["fd://", /fd:\/\/.*clients cannot dial/],
    ["foo://bar", /unknown scheme "foo:\/\/".*ssh:\/\/user@host/],
    ["tcp://host:0", /port 0, outside 1–65535/],
    ["tcp://host:70000", /port 70000, outside 1–65535/],
    ["tcp://host:abc", /not a valid address/],
    ["tcp://host:2375/v1.43", /path after the host and port/],
    ["tcp://me@host:2375", /user name/],
    ["ssh://", /no host name/],
    ["ssh://me:secret@host", /password.*identityFile/],
    ["ssh://me@host/srv", /path after the host/],
    ["ssh://me@host:99999", /outside 1–65535/],
  ];
  for (const [host, message] of bad) {
    it(`rejects ${JSON.stringify(host)} with a clear error`, () => {
      assert.throws(
        () => parseDockerHost(host),
        (err: unknown) => {
          assert.ok(err instanceof DockerHostError && err instanceof HangarError);
          assert.equal(err.host, host);
          assert.match(err.message, message);
          assert.ok(err.message.startsWith(`Docker host "${host}"`), err.message);
          return true;
        },
      );
    });
  }
});

describe("dockerHostKey", () => {
  it("spells one address one way", () => {
    assert.equal(dockerHostKey("unix:///var/run//docker.sock"), dockerHostKey("unix:///var/run/docker.sock"));
    assert.equal(dockerHostKey("tcp://Host"), dockerHostKey("host:2375"));
    assert.equal(dockerHostKey("tcp://host", { tls: true }), dockerHostKey("tcp://host:2376"));
    assert.notEqual(dockerHostKey("tcp://host"), dockerHostKey("tcp://host", { tls: true }));
    assert.equal(dockerHostKey("npipe:////./pipe/Docker_Engine"), dockerHostKey("npipe://"));
    assert.notEqual(dockerHostKey("ssh://a@h"), dockerHostKey("ssh://b@h"));
    assert.equal(dockerHostKey("nonsense://x"), "raw:nonsense://x");
  });
});
