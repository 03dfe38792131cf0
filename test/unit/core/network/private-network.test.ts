// Private networks' pure parts: addresses from Vagrantfile lines, the
// guest-frame filter of a machine's link (proxy ARP, spoofed sources), and
// the daemon's switch (claims, dhcp leases, routing only between a network's
// own addresses).
import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyGuestFrame, arpReply } from "../../../../src/core/emulator/private-link";
import { nextDhcpAddress, parseIpv4, parseNetmask, privateNetworkRequest } from "../../../../src/core/network/private-addresses";
import { PrivateSwitch } from "../../../../src/core/network/private-switch";

const ip = (s: string): number => parseIpv4(s)!;
const bytes = (s: string): number[] => s.split(".").map(Number);
const GUEST_MAC = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
const ROUTER_MAC = new Uint8Array([0x52, 0x54, 0, 1, 2, 3]);

function ipv4Packet(src: string, dest: string, payload = 8): Uint8Array {
  const p = new Uint8Array(20 + payload);
  p[0] = 0x45;
  p[2] = (20 + payload) >> 8;
  p[3] = (20 + payload) & 255;
  p[9] = 17;
  p.set(bytes(src), 12);
  p.set(bytes(dest), 16);
  return p;
}

function frame(type: number, payload: Uint8Array | number[]): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(ROUTER_MAC, 0);
  f.set(GUEST_MAC, 6);
  f[12] = type >> 8;
  f[13] = type & 255;
  f.set(payload, 14);
  return f;
}

function arpRequest(sender: string, target: string): Uint8Array {
  return frame(0x0806, [0, 1, 8, 0, 6, 4, 0, 1, ...GUEST_MAC, ...bytes(sender), 0, 0, 0, 0, 0, 0, ...bytes(target)]);
}

test("private_network lines become addresses: netmasks in either form, dhcp, and clear refusals", () => {
  assert.deepEqual(privateNetworkRequest({ ip: "192.168.56.10", type: "static", netmask: null }), { ip: "192.168.56.10", prefix: 24 });
  assert.deepEqual(privateNetworkRequest({ ip: "10.1.2.3", type: "static", netmask: "255.255.0.0" }), { ip: "10.1.2.3", prefix: 16 });
  assert.deepEqual(privateNetworkRequest({ ip: "10.1.2.3", type: "static", netmask: "20" }), { ip: "10.1.2.3", prefix: 20 });
  assert.deepEqual(privateNetworkRequest({ ip: null, type: "dhcp", netmask: null }), { ip: null, prefix: 24 });
  assert.equal(parseNetmask("255.0.255.0"), undefined);
  assert.throws(() => privateNetworkRequest({ ip: "192.168.56.300", type: "static", netmask: null }), /'192\.168\.56\.300' is not an IPv4 address/);
  assert.throws(() => privateNetworkRequest({ ip: "192.168.56.10", type: "static", netmask: "255.0.255.0" }), /netmask '255\.0\.255\.0' is not an IPv4 netmask/);
  assert.throws(() => privateNetworkRequest({ ip: "192.168.56.255", type: "static", netmask: null }), /broadcast address/);
  assert.throws(() => privateNetworkRequest({ ip: "192.168.56.0", type: "static", netmask: null }), /network's own address/);
  assert.throws(() => privateNetworkRequest({ ip: null, type: "static", netmask: null }), /needs an IP address/);
  assert.deepEqual(nextDhcpAddress(new Set(["172.28.128.3", "172.28.128.5"])), { ip: "172.28.128.4", prefix: 24 });
});

test("a machine's link answers ARP for its networks, sends its own packets to the switch, and drops spoofed or broadcast ones", () => {
  const nets = [{ ip: ip("192.168.56.10"), prefix: 24 }];
  assert.deepEqual(classifyGuestFrame(arpRequest("192.168.56.10", "192.168.56.11"), nets), { kind: "arp" });
  assert.deepEqual(classifyGuestFrame(arpRequest("192.168.86.100", "192.168.86.1"), nets), { kind: "nat" }, "the NAT's ARP is v86's");
  assert.deepEqual(classifyGuestFrame(arpRequest("0.0.0.0", "192.168.56.10"), nets), { kind: "drop" }, "a probe for its own address gets no answer");
  assert.deepEqual(classifyGuestFrame(frame(0x0800, ipv4Packet("192.168.56.10", "192.168.56.11")), nets), { kind: "ipv4", length: 28 });
  assert.deepEqual(classifyGuestFrame(frame(0x0800, ipv4Packet("192.168.86.100", "10.0.0.1")), nets), { kind: "nat" });
  assert.deepEqual(classifyGuestFrame(frame(0x0800, ipv4Packet("192.168.56.50", "192.168.56.11")), nets), { kind: "drop" }, "a source that is not the guest's");
  assert.deepEqual(classifyGuestFrame(frame(0x0800, ipv4Packet("192.168.56.10", "192.168.56.255")), nets), { kind: "drop" }, "broadcasts stay home");
  const truncated = frame(0x0800, ipv4Packet("192.168.56.10", "192.168.56.11")).subarray(0, 40);
  assert.deepEqual(classifyGuestFrame(truncated, nets), { kind: "drop" }, "a length beyond the frame");

  const reply = arpReply(arpRequest("192.168.56.10", "192.168.56.11"), ROUTER_MAC);
  assert.deepEqual([...reply.subarray(0, 6)], GUEST_MAC);
  assert.deepEqual([...reply.subarray(20, 22)], [0, 2], "an ARP reply");
  assert.deepEqual([...reply.subarray(22, 28)], [...ROUTER_MAC]);
  assert.deepEqual([...reply.subarray(28, 32)], bytes("192.168.56.11"));
  assert.deepEqual([...reply.subarray(38, 42)], bytes("192.168.56.10"));
});

test("the switch delivers between a network's addresses only, refuses a held address, and keeps dhcp leases", () => {
  const sw = new PrivateSwitch();
  const got: Record<string, string[]> = { web: [], db: [], other: [] };
  const dest = (p: Uint8Array): string => [...p.subarray(16, 20)].join(".");
  assert.deepEqual(
    sw.claim("web", [
      { ip: "192.168.56.10", prefix: 24 },
      { ip: null, prefix: 24 },
    ]),
    [
      { ip: "192.168.56.10", prefix: 24 },
      { ip: "172.28.128.3", prefix: 24 },
    ],
  );
  sw.claim("db", [
    { ip: "192.168.56.11", prefix: 24 },
    { ip: null, prefix: 24 },
  ]);
  sw.claim("other", [{ ip: "10.0.0.11", prefix: 24 }]);
  for (const k of ["web", "db", "other"]) sw.connect(k, (p) => got[k]!.push(dest(p)));
  assert.throws(() => sw.claim("clash", [{ ip: "192.168.56.11", prefix: 24 }], (k) => `'${k}'`), /192\.168\.56\.11 is already used by the running machine 'db'/);

  sw.route("web", ipv4Packet("192.168.56.10", "192.168.56.11"));
  sw.route("web", ipv4Packet("172.28.128.3", "172.28.128.4"));
  sw.route("web", ipv4Packet("192.168.56.10", "10.0.0.11")); // not on web's network
  sw.route("web", ipv4Packet("192.168.56.99", "192.168.56.11")); // spoofed source
  sw.route("web", ipv4Packet("192.168.56.10", "192.168.56.10")); // itself
  assert.deepEqual(got, { web: [], db: ["192.168.56.11", "172.28.128.4"], other: [] });

  // Released (halted), db's addresses are free; its lease comes back on its next claim while the daemon runs.
  sw.release("db");
  sw.route("web", ipv4Packet("192.168.56.10", "192.168.56.11"));
  assert.equal(got.db!.length, 2);
  assert.deepEqual(sw.claim("db", [{ ip: null, prefix: 24 }]), [{ ip: "172.28.128.4", prefix: 24 }]);
});
