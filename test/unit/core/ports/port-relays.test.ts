import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { PortRelays } from "../../../../src/core/ports/port-relays";

async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve()));
  return server;
}
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
const closeServer = (s: net.Server): Promise<unknown> => new Promise((r) => s.close(r));

async function isFree(port: number): Promise<boolean> {
  const s = await listen(port).catch(() => undefined);
  if (s) await closeServer(s);
  return !!s;
}

test("a taken port without auto_correct fails with an actionable error and leaves nothing bound", async () => {
  const held = await listen();
  const free = await listen();
  const freePort = portOf(free);
  await closeServer(free);
  await assert.rejects(
    PortRelays.bind([
      { id: "ssh", guest: 22, host: freePort, hostIp: "127.0.0.1", autoCorrect: false },
      { id: "web", guest: 80, host: portOf(held), hostIp: "127.0.0.1", autoCorrect: false },
    ]),
    (err: Error) =>
      // Vagrant's port-collision error: the port, the way to pick another, auto_correct.
      err.message.includes(`The forwarded port to ${portOf(held)} (host 127.0.0.1:${portOf(held)}, guest port 80) is already in use on the host machine.`) &&
      /guest: 80, host: 1234.*auto_correct: true/.test(String((err as { hint?: string }).hint ?? err.message)),
  );
  assert.equal(await isFree(freePort), true, "the forward bound before the failure was released");
  await closeServer(held);
});

test("auto_correct moves a taken port into the range, never onto another forward's port", async () => {
  const held = await listen();
  const relays = await PortRelays.bind([
    { id: "a", guest: 80, host: portOf(held), hostIp: "127.0.0.1", autoCorrect: true, range: [portOf(held), portOf(held) + 20] },
    { id: "b", guest: 81, host: portOf(held), hostIp: "127.0.0.1", autoCorrect: true, range: [portOf(held), portOf(held) + 20] },
  ]);
  try {
    const [a, b] = relays.ports;
    assert.notEqual(a.host, portOf(held));
    assert.notEqual(b.host, portOf(held));
    assert.notEqual(a.host, b.host);
    assert.equal(a.requested, portOf(held));
  } finally {
    await relays.close();
    await closeServer(held);
  }
});

test("connections are refused until the guest is attached, then relayed to the guest port both ways", async () => {
  const echo = await listen();
  const relays = await PortRelays.bind([{ id: "echo", guest: 7, host: 0, hostIp: "127.0.0.1", autoCorrect: false }]);
  const port = relays.port("echo")!;
  const talk = (): Promise<string> =>
    new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => c.end("ping through the relay"));
      let got = "";
      c.on("data", (d) => (got += d));
      c.on("close", () => resolve(got));
      c.on("error", () => resolve(got));
    });
  assert.equal(await talk(), "", "nothing is relayed before the guest exists");
  const asked: number[] = [];
  relays.attach((guestPort) => (asked.push(guestPort), net.connect(portOf(echo), "127.0.0.1")));
  assert.equal(await talk(), "ping through the relay");
  assert.deepEqual(asked, [7]);
  await relays.close();
  await closeServer(echo);
});
