// The Networks and Volumes views learn which containers use a network or a
// volume from GET /containers/json?all=1 (GET /networks leaves Containers
// out), and check names as Docker does before asking the engine.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerInfo } from "dockerode";
import { addressOn, checkResourceName, isPredefinedNetwork, networkMembers, volumeUsers } from "../../../../../src/core/docker/listing/resource-usage";

function container(name: string, networks: Record<string, { NetworkID: string; IPAddress: string }>, mounts: Array<{ Type: string; Name?: string; Destination: string }> = []): ContainerInfo {
  return {
    Id: name.padEnd(64, "f"),
    Names: [`/${name}`],
    Image: "busybox",
    ImageID: "sha256:0",
    Command: "sh",
    Created: 0,
    Ports: [],
    Labels: {},
    State: "running",
    Status: "",
    HostConfig: { NetworkMode: "default" },
    NetworkSettings: { Networks: networks as unknown as ContainerInfo["NetworkSettings"]["Networks"] },
    Mounts: mounts as unknown as ContainerInfo["Mounts"],
  };
}

const web = { Id: "n1".padEnd(64, "0"), Name: "web" };
const other = { Id: "n2".padEnd(64, "0"), Name: "other" };

describe("networkMembers and addressOn", () => {
  const all = [
    container("zeta", { web: { NetworkID: web.Id, IPAddress: "172.18.0.3" } }),
    container("alpha", { web: { NetworkID: web.Id, IPAddress: "172.18.0.2" }, other: { NetworkID: other.Id, IPAddress: "172.19.0.2" } }),
    // Never started: no NetworkID yet, only the endpoint's key.
    container("fresh", { web: { NetworkID: "", IPAddress: "" } }),
    // A network of the same name that was removed and made again: its old ID is not this one's.
    container("stale", { web: { NetworkID: "old".padEnd(64, "0"), IPAddress: "172.18.0.9" } }),
    container("none", {}),
  ];

  it("lists the containers attached to a network by ID, or by name before they start, sorted by name", () => {
    assert.deepEqual(
      networkMembers(web, all).map((c) => c.Names[0]),
      ["/alpha", "/fresh", "/zeta"],
    );
    assert.deepEqual(
      networkMembers(other, all).map((c) => c.Names[0]),
      ["/alpha"],
    );
  });

  it("gives each container's address on that network", () => {
    assert.equal(addressOn(web, all[1]), "172.18.0.2");
    assert.equal(addressOn(other, all[1]), "172.19.0.2");
    assert.equal(addressOn(web, all[2]), "");
  });

  it("knows Docker's predefined networks", () => {
    assert.deepEqual(
      ["bridge", "host", "none", "web"].map((Name) => isPredefinedNetwork({ Name })),
      [true, true, true, false],
    );
  });
});

describe("volumeUsers", () => {
  it("lists the containers that mount a volume, not binds or other volumes", () => {
    const all = [
      container("b", {}, [{ Type: "volume", Name: "data", Destination: "/data" }]),
      container("a", {}, [{ Type: "volume", Name: "data", Destination: "/srv" }]),
      container("bind", {}, [{ Type: "bind", Destination: "/data" }]),
      container("c", {}, [{ Type: "volume", Name: "cache", Destination: "/cache" }]),
    ];
    assert.deepEqual(
      volumeUsers({ Name: "data" }, all).map((c) => c.Names[0]),
      ["/a", "/b"],
    );
    assert.deepEqual(volumeUsers({ Name: "gone" }, all), []);
  });
});

describe("checkResourceName", () => {
  it("accepts Docker's names", () => {
    for (const name of ["web", "my_net.1", "a-b", "9lives"]) assert.equal(checkResourceName("network", name), undefined, name);
    assert.equal(checkResourceName("network", "x"), undefined);
    assert.equal(checkResourceName("volume", "db"), undefined);
  });

  it("says why a name is refused", () => {
    assert.match(checkResourceName("network", "") ?? "", /needs a name/);
    assert.match(checkResourceName("network", "has space") ?? "", /not a valid network name/);
    assert.match(checkResourceName("volume", "-lead") ?? "", /not a valid volume name/);
    assert.match(checkResourceName("volume", "../up") ?? "", /not a valid volume name/);
    assert.match(checkResourceName("volume", "x") ?? "", /at least two characters/);
  });
});
