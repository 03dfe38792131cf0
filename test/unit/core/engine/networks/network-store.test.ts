import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { NetworkConflictError, NetworkInvalidError, NetworkNotFoundError, NetworkStore } from "../../../../../src/core/engine/networks/network-store";

async function withStore(fn: (store: NetworkStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-networks-"));
  try {
    await fn(await NetworkStore.open(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the pre-defined networks exist, keep their IDs across opens, and cannot be removed", () =>
  withStore(async (store, dir) => {
    assert.deepEqual(
      store.list().map((n) => [n.Name, n.Driver, n.Subnet ?? ""]),
      [
        ["bridge", "bridge", "172.17.0.0/16"],
        ["host", "host", ""],
        ["none", "null", ""],
      ],
    );
    const again = await NetworkStore.open(dir);
    assert.equal(again.get("bridge").Id, store.get("bridge").Id);
    await assert.rejects(store.remove("bridge"), /pre-defined network and cannot be removed/);
  }));

test("user-defined networks take the next free /16 from 172.18, are found by name or ID prefix, and persist", () =>
  withStore(async (store, dir) => {
    const a = await store.create({ name: "a" });
    const b = await store.create({ name: "b" });
    assert.deepEqual([a.Subnet, a.Gateway, b.Subnet], ["172.18.0.0/16", "172.18.0.1", "172.19.0.0/16"]);
    assert.equal(a.Bridge, `br-${a.Id.slice(0, 12)}`);
    assert.equal(store.get(a.Id.slice(0, 8)).Name, "a");
    assert.throws(() => store.get("missing"), NetworkNotFoundError);
    assert.deepEqual(
      (await NetworkStore.open(dir)).list().map((n) => n.Name),
      ["bridge", "host", "none", "a", "b"],
    );
    assert.ok(JSON.parse(await readFile(path.join(dir, "networks.json"), "utf8")).some((n: { Name: string }) => n.Name === "b"));
    await store.remove("a");
    assert.equal((await store.create({ name: "c" })).Subnet, "172.18.0.0/16", "a freed subnet is reused");
  }));

test("bad or clashing requests are refused and change nothing", () =>
  withStore(async (store) => {
    await store.create({ name: "x", subnet: "10.5.0.0/24" });
    await assert.rejects(store.create({ name: "x" }), NetworkConflictError);
    await assert.rejects(store.create({ name: "y", subnet: "10.5.0.128/25" }), /overlaps/);
    await assert.rejects(store.create({ name: "y", subnet: "10.6.0.0" }), NetworkInvalidError);
    await assert.rejects(store.create({ name: "y", subnet: "10.6.0.0/24", gateway: "10.7.0.1" }), /not in subnet/);
    await assert.rejects(store.create({ name: "bad name!" }), /invalid network name/);
    await assert.rejects(store.create({ name: "y", driver: "overlay" }), /bridge driver only/);
    assert.deepEqual(
      store.list().map((n) => n.Name),
      ["bridge", "host", "none", "x"],
    );
  }));

test("addresses: lowest free after the gateway, a requested one honoured on user networks only, released ones reused", () =>
  withStore(async (store) => {
    const bridge = store.get("bridge").Id;
    const first = store.lease(bridge, "c1");
    assert.deepEqual([first.ip, first.prefixLen, first.gateway, first.mac, first.bridge], ["172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02", "docker0"]);
    assert.equal(store.lease(bridge, "c2").ip, "172.17.0.3");
    store.release("c1");
    assert.equal(store.lease(bridge, "c3").ip, "172.17.0.2");
    assert.throws(() => store.lease(bridge, "c4", "172.17.0.50"), /user defined networks only/);
    const small = await store.create({ name: "small", subnet: "10.9.0.0/30" });
    assert.equal(store.lease(small.Id, "a", "10.9.0.2").ip, "10.9.0.2");
    assert.throws(() => store.lease(small.Id, "b", "10.9.0.2"), /Address already in use/);
    assert.throws(() => store.lease(small.Id, "b"), /no available IPv4 addresses/);
    assert.throws(() => store.lease(store.get("host").Id, "b"), /gives containers no addresses/);
  }));
