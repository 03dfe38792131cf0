// Outbound connections from a real guest through the user-mode NAT (GuestNat):
// the gateway 192.168.86.1 is the host's 127.0.0.1, bytes arrive intact both
// ways with half-close, a closed port is refused at once rather than hanging,
// and the guest's names are answered by the host's own resolver.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { promises as dns, setServers, getServers } from "node:dns";
import { readdir, rm } from "node:fs/promises";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { resolveDebianMirror } from "../../../src/core/boxes/debian/apt-mirror";
import { EmbeddedBox } from "../../../src/core/boxes/embedded-box";
import { resolveOnHost } from "../../../src/core/emulator/guest-nat";
import { MachineRunner } from "../../../src/core/machines/machine-runner";
import { MachineSession, type RunResult } from "../../../src/core/machines/machine-session";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const GATEWAY = "192.168.86.1";
const BLOB = randomBytes(1024 * 1024);
const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");
let home = "";
let runner: MachineRunner | undefined;
let session: MachineSession | undefined;
const servers: net.Server[] = [];

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function guest(command: string): Promise<RunResult & { ms: number }> {
  const t = performance.now();
  const r = await session!.run(command);
  return { ...r, ms: performance.now() - t };
}

before(async () => {
  home = await homeWithDefaultBox();
  const boxDir = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox");
  const [version] = await readdir(boxDir);
  const box = await EmbeddedBox.open(path.join(boxDir, version!, "embedded"));
  const keyFile = path.join(home, "nat_key");
  runner = await MachineRunner.start({ box, memoryMiB: FIXTURE_MEMORY_MIB, keyFile });
  session = await MachineSession.open(runner.sshPort, keyFile);
});

after(async () => {
  session?.close();
  await runner?.stop();
  for (const s of servers) s.close();
  if (home) await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("the guest downloads 1 MiB from a host HTTP server on 127.0.0.1 through the gateway, byte for byte", { timeout: 300_000 }, async (t) => {
  const port = await listen(http.createServer((_req, res) => res.writeHead(200, { "content-length": BLOB.length }).end(BLOB)));
  const r = await guest(`wget -q -O - http://${GATEWAY}:${port}/blob | md5sum`);
  assert.equal(r.stdout.split(" ")[0], md5(BLOB), r.stderr);
  t.diagnostic(`1 MiB in ${Math.round(r.ms)} ms (${(1000 / r.ms).toFixed(2)} MiB/s, SSH round trip included)`);
});

test("raw TCP with busybox nc: host greets, guest uploads 1 MiB and half-closes, host answers after the guest's FIN", { timeout: 300_000 }, async () => {
  const port = await listen(
    net.createServer({ allowHalfOpen: true }, (sock) => {
      const hash = createHash("md5");
      let bytes = 0;
      sock.write("hello from the host\n");
      sock.on("data", (d: Buffer) => (hash.update(d), (bytes += d.length)));
      sock.on("end", () => sock.end(`got ${bytes} bytes, md5 ${hash.digest("hex")}\n`));
    }),
  );
  const r = await guest(`dd if=/dev/urandom of=/tmp/up bs=1024 count=1024 2>/dev/null && md5sum /tmp/up && nc ${GATEWAY} ${port} < /tmp/up`);
  assert.equal(r.code, 0, r.stderr);
  const [sum, greeting, answer] = r.stdout.trimEnd().split("\n");
  assert.equal(greeting, "hello from the host");
  assert.equal(answer, `got 1048576 bytes, md5 ${sum!.split(" ")[0]}`);
});

test("a closed host port, and an address nothing answers, are refused at once rather than hanging", { timeout: 120_000 }, async (t) => {
  const probe = net.createServer();
  const closed = await listen(probe); // a port that was free a moment ago
  probe.close();
  for (const target of [`${GATEWAY}:${closed}`, "192.168.87.1:8080", "192.168.86.7:8080"]) {
    // (No -T: this busybox wget crashes on a refused connection when given a timeout.)
    const r = await guest(`wget -q -O /dev/null http://${target}/`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Connection refused/, target);
    assert.ok(r.ms < 5000, `${target} took ${r.ms} ms`);
    t.diagnostic(`${target}: refused in ${Math.round(r.ms)} ms`);
  }
});

test("the guest's DNS queries are answered by the host's resolver", { timeout: 120_000 }, async (t) => {
  // A name this host's resolver knows without this test inventing one: the Debian mirror the box was built from.
  let name: string;
  let expected: string[];
  try {
    name = new URL(resolveDebianMirror().url).hostname;
    expected = (await dns.resolve4(name)).sort();
  } catch (err) {
    return t.skip(`the host resolves no known name (${(err as Error).message})`);
  }
  // busybox nslookup sends its own query; ping resolves through the C library, and v86 itself answers the echo.
  const r = await guest(`nslookup -type=a ${name}; ping -c 1 -W 2 ${name} | head -1`);
  const answered = [...r.stdout.split("Name:")[1]!.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]!).sort();
  assert.deepEqual(answered, expected, r.stdout);
  assert.match(r.stdout, new RegExp(`^PING ${name.replace(/\./g, "\\.")} \\((${expected.join("|").replace(/\./g, "\\.")})\\)`, "m"));

  const missing = await guest("nslookup nothing.invalid");
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /NXDOMAIN/);
  assert.ok(missing.ms < 5000, `a missing name took ${missing.ms} ms`);
});

test("with no nameserver, or a silent one, a query gets SERVFAIL without waiting for the guest's resolver to time out", async () => {
  // A query for "a.test" (ID 0xabcd, type A).
  const query = Uint8Array.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 4, ...Buffer.from("test"), 0, 0, 1, 0, 1]);
  const saved = getServers();
  try {
    // 192.0.2.1 is TEST-NET-1: nothing answers there.
    for (const [list, within] of [
      [[], 100],
      [["192.0.2.1"], 3000],
    ] as const) {
      setServers(list);
      const t = performance.now();
      const reply = await resolveOnHost(query);
      assert.ok(performance.now() - t < within, `${list.join() || "no server"}: ${performance.now() - t} ms`);
      assert.deepEqual([...reply.subarray(0, 4)], [0xab, 0xcd, 0x81, 0x82]); // same ID, a response, recursion, SERVFAIL
      assert.deepEqual([...reply.subarray(12)], [...query.subarray(12)]); // the question, as asked
    }
  } finally {
    setServers(saved);
  }
});
