// groupContainers lays GET /containers/json?all=1 out for the Containers view
// (by state, running first, or by image; by name within a group), and the
// port helpers print ports as `docker ps` does and pick the ones a browser can open.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerInfo, Port } from "dockerode";
import { browsablePorts, containerName, describePorts, groupContainers } from "../../../../../src/core/docker/listing/container-groups";

function container(name: string, state: string, image = "alpine:3.19", ports: Port[] = []): ContainerInfo {
  return {
    Id: `${name}`.padEnd(64, "f"),
    Names: [`/${name}`],
    Image: image,
    ImageID: "sha256:0",
    Command: "sh",
    Created: 0,
    Ports: ports,
    Labels: {},
    State: state,
    Status: "",
    HostConfig: { NetworkMode: "default" },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

const port = (PrivatePort: number, PublicPort?: number, IP?: string, Type = "tcp"): Port => ({ PrivatePort, Type, ...(PublicPort ? { PublicPort } : {}), ...(IP !== undefined ? { IP } : {}) }) as Port;

describe("groupContainers by state", () => {
  const all = [
    container("old-job", "exited"),
    container("web", "running"),
    container("db", "running"),
    container("fresh", "created"),
    container("stuck", "dead"),
    container("flaky", "restarting"),
    container("frozen", "paused"),
    container("going", "removing"),
    container("odd", "weird"),
    container("api", "exited"),
  ];

  it("orders the groups running, restarting, paused, created, exited, removing, dead, then unknown states", () => {
    const groups = groupContainers(all, "state");
    assert.deepEqual(
      groups.map((g) => g.state),
      ["running", "restarting", "paused", "created", "exited", "removing", "dead", "weird"],
    );
    assert.deepEqual(
      groups.map((g) => g.label),
      ["Running", "Restarting", "Paused", "Created", "Exited", "Removing", "Dead", "weird"],
    );
  });

  it("sorts containers by name within a group", () => {
    const groups = groupContainers(all, "state");
    assert.deepEqual(groups[0].containers.map(containerName), ["db", "web"]);
    assert.deepEqual(groups.find((g) => g.state === "exited")?.containers.map(containerName), ["api", "old-job"]);
  });

  it('files a container without a state under "unknown", after the known states', () => {
    const groups = groupContainers([container("x", ""), container("y", "running"), container("z", "zombie")], "state");
    assert.deepEqual(
      groups.map((g) => [g.label, g.state]),
      [
        ["Running", "running"],
        ["unknown", "unknown"],
        ["zombie", "zombie"],
      ],
    );
  });

  it("returns no groups for no containers", () => assert.deepEqual(groupContainers([], "state"), []));
});

describe("groupContainers by image", () => {
  it("groups by image name, sorted, with no state", () => {
    const groups = groupContainers([container("b", "running", "nginx:1.27"), container("a", "exited", "nginx:1.27"), container("c", "running", "alpine:3.19")], "image");
    assert.deepEqual(
      groups.map((g) => [g.label, g.containers.map(containerName)]),
      [
        ["alpine:3.19", ["c"]],
        ["nginx:1.27", ["a", "b"]],
      ],
    );
    assert.ok(groups.every((g) => !("state" in g)));
  });
});

describe("containerName", () => {
  it("drops docker's leading slash", () => assert.equal(containerName({ Names: ["/web"], Id: "abc" }), "web"));
  it("takes the first name", () => assert.equal(containerName({ Names: ["/web", "/app/web"], Id: "abc" }), "web"));
  it("falls back to the short ID when there is no name", () => {
    assert.equal(containerName({ Names: [], Id: "0123456789abcdef0123" }), "0123456789ab");
    assert.equal(containerName({ Names: undefined as unknown as string[], Id: "0123456789abcdef0123" }), "0123456789ab");
  });
});

describe("describePorts", () => {
  it("prints nothing for no ports", () => assert.equal(describePorts([]), ""));

  it("prints published ports as host:port->port/proto", () => {
    assert.equal(describePorts([port(80, 8080, "0.0.0.0"), port(443, 8443, "127.0.0.1")]), "0.0.0.0:8080->80/tcp, 127.0.0.1:8443->443/tcp");
  });

  it("prints one mapping for the IPv4 and IPv6 halves of the same publication", () => {
    assert.equal(describePorts([port(80, 8080, "0.0.0.0"), port(80, 8080, "::")]), "0.0.0.0:8080->80/tcp");
  });

  it("prints an unknown host address as 0.0.0.0", () => assert.equal(describePorts([port(53, 5353, undefined, "udp")]), "0.0.0.0:5353->53/udp"));

  it("puts a specific IPv6 address in brackets", () => assert.equal(describePorts([port(80, 8080, "::1")]), "[::1]:8080->80/tcp"));

  it("drops exact duplicates", () => assert.equal(describePorts([port(80, 8080, "127.0.0.1"), port(80, 8080, "127.0.0.1")]), "127.0.0.1:8080->80/tcp"));

  it("leaves out unpublished ports when some are published", () => {
    assert.equal(describePorts([port(9000), port(80, 8080, "0.0.0.0"), port(5432)]), "0.0.0.0:8080->80/tcp");
  });

  it("prints unpublished ports only when none is published, deduplicated", () => {
    assert.equal(describePorts([port(80), port(80), port(53, undefined, undefined, "udp")]), "80/tcp, 53/udp");
  });
});

describe("browsablePorts", () => {
  it("offers only published TCP ports", () => {
    assert.deepEqual(browsablePorts([port(80), port(53, 5353, "0.0.0.0", "udp"), port(3000, 3000, "127.0.0.1")]), [{ url: "http://127.0.0.1:3000", label: "127.0.0.1:3000 → 3000/tcp" }]);
  });

  it("opens 0.0.0.0, :: and an unknown address as localhost, once", () => {
    assert.deepEqual(browsablePorts([port(80, 8080, "0.0.0.0"), port(80, 8080, "::"), port(81, 8081)]), [
      { url: "http://localhost:8080", label: "localhost:8080 → 80/tcp" },
      { url: "http://localhost:8081", label: "localhost:8081 → 81/tcp" },
    ]);
  });

  it("puts an IPv6 address in brackets", () => {
    assert.deepEqual(browsablePorts([port(80, 8080, "::1"), port(80, 9090, "fe80::1")]), [
      { url: "http://[::1]:8080", label: "[::1]:8080 → 80/tcp" },
      { url: "http://[fe80::1]:9090", label: "[fe80::1]:9090 → 80/tcp" },
    ]);
  });

  it("returns nothing when no port is published", () => assert.deepEqual(browsablePorts([port(80), port(443)]), []));
});
