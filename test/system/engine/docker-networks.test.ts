// Container networks through the real docker CLI: the default bridge's
// addresses, user-defined networks where containers reach each other by
// name, ports published on the host and answered from inside a container,
// the network commands (create, ls, inspect, connect, disconnect, rm), and
// containers' way out: through the engine machine to the host and its
// resolver, but never into another network's containers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as dns } from "node:dns";
import * as http from "node:http";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { resolveDebianMirror } from "../../../src/core/boxes/debian/apt-mirror";
import type { Run } from "../fixtures/command-run";
import { EngineUnderTest } from "../fixtures/engine-under-test";

/** A static page served by busybox httpd in the container (it answers once it listens). */
const SERVE = (text: string): string => `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;

let engine: EngineUnderTest;

function docker(args: string[], allowFail = false): Promise<Run> {
  return engine.docker(args, allowFail);
}

/** GET from the host, retried while the container's server is still starting (the relay closes a connection nothing accepts). */
async function httpGet(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port, path: "/index.html", timeout: 10_000 }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d));
            res.on("end", () => resolve(body));
          })
          .on("error", reject)
          .on("timeout", () => reject(new Error("timed out")));
      });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}: ${String(last)}`);
}

before(async () => {
  engine = await EngineUnderTest.start();
});

after(async () => {
  await engine?.stop();
});

test("the default bridge: eth0 at 172.17.0.2 behind the docker0 gateway, /etc/hosts and /etc/hostname Docker's; --network none has loopback only", { timeout: 300_000 }, async () => {
  const out = await docker([
    "run",
    "--rm",
    "--hostname",
    "box1",
    "busybox",
    "sh",
    "-c",
    "ip -o -4 addr show eth0 | awk '{print $4}'; ip route | grep default; hostname; cat /etc/hostname; grep -c localhost /etc/hosts; grep box1 /etc/hosts; ping -c 1 -W 5 172.17.0.1 | grep -c 'bytes from'",
  ]);
  assert.equal(out.stdout, "172.17.0.2/16\ndefault via 172.17.0.1 dev eth0 \nbox1\nbox1\n2\n172.17.0.2\tbox1\n1\n");
  const none = await docker(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "ip -o link | awk -F': ' '{print $2}'"]);
  assert.equal(none.stdout, "lo\n");
  const bridge = JSON.parse((await docker(["network", "inspect", "bridge"])).stdout)[0];
  assert.deepEqual(bridge.IPAM.Config, [{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }]);
  assert.equal(bridge.Options["com.docker.network.bridge.name"], "docker0");
  const unknown = await docker(["run", "--rm", "--network", "nosuchnet", "busybox", "true"], true);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /network nosuchnet not found/);
});

test("a user-defined network: containers find each other by name and alias, and each other's web servers answer", { timeout: 400_000 }, async () => {
  const created = (await docker(["network", "create", "appnet"])).stdout.trim();
  assert.match(created, /^[0-9a-f]{64}$/);
  const since = Math.floor(Date.now() / 1000) - 1;
  const ls = await docker(["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
  assert.match(ls.stdout, /^appnet bridge$/m);
  await docker(["run", "-d", "--name", "api", "--network", "appnet", "--network-alias", "backend", "busybox", "sh", "-c", SERVE("from-api")]);
  const client = await docker([
    "run",
    "--rm",
    "--network",
    "appnet",
    "busybox",
    "sh",
    "-c",
    "ping -c 1 -W 5 api | grep -c 'bytes from'; for i in $(seq 50); do wget -q -O - http://backend/index.html && break; sleep 0.2; done",
  ]);
  assert.equal(client.stdout, "1\nfrom-api\n");
  const inspected = JSON.parse((await docker(["network", "inspect", "appnet"])).stdout)[0];
  const members = Object.values(inspected.Containers) as Array<{ Name: string; IPv4Address: string }>;
  assert.deepEqual(
    members.map((m) => [m.Name, m.IPv4Address]),
    [["api", "172.18.0.2/16"]],
  );
  // The default bridge has no names: a container there cannot resolve "api", and is not on appnet's subnet either.
  const outsider = await docker(["run", "--rm", "busybox", "sh", "-c", "ping -c 1 -W 2 api || echo unreachable"], true);
  assert.match(outsider.stdout, /unreachable/);
  // rm is refused while a container uses the network; it works once none does.
  const refused = await docker(["network", "rm", "appnet"], true);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /has active endpoints/);
  const apiId = (await docker(["inspect", "--format", "{{.Id}}", "api"])).stdout.trim();
  await docker(["rm", "-f", "api"]);
  // As dockerd: the container's start and stop are network connect and disconnect on the event stream (the Networks view refreshes on them).
  // until must lie after the events (whole seconds on the command line): the CLI waits for it.
  const events = (await docker(["events", "--since", String(since), "--until", String(Math.floor(Date.now() / 1000) + 1), "--filter", "type=network"])).stdout;
  const connect = events.indexOf(`network connect ${created} (container=${apiId}, name=appnet, type=bridge)`);
  assert.ok(connect >= 0 && events.indexOf(`network disconnect ${created} (container=${apiId}, name=appnet, type=bridge)`) > connect, events);
  await docker(["network", "rm", "appnet"]);
  assert.doesNotMatch((await docker(["network", "ls"])).stdout, /appnet/);
  const predefined = await docker(["network", "rm", "bridge"], true);
  assert.match(predefined.stderr, /pre-defined network and cannot be removed/);
});

test("connect and disconnect a running container: it appears on the network under its name and leaves it again", { timeout: 400_000 }, async () => {
  await docker(["network", "create", "--subnet", "10.77.0.0/24", "side"]);
  await docker(["run", "-d", "--name", "web", "busybox", "sh", "-c", SERVE("from-web")]);
  await docker(["network", "connect", "--alias", "www", "side", "web"]);
  const nets = (await docker(["inspect", "web", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}"])).stdout.trim();
  assert.equal(nets, "bridge=172.17.0.2 side=10.77.0.2");
  const reach = await docker(["run", "--rm", "--network", "side", "busybox", "sh", "-c", "for i in $(seq 50); do wget -q -O - http://www/index.html && break; sleep 0.2; done"]);
  assert.equal(reach.stdout, "from-web\n");
  await docker(["network", "disconnect", "side", "web"]);
  // (at an address of its own choosing, so it does not take the one web let go of)
  const inside = await docker(
    [
      "run",
      "--rm",
      "--network",
      "side",
      "--ip",
      "10.77.0.9",
      "busybox",
      "sh",
      "-c",
      "ip -o -4 addr show eth0 | awk '{print $4}'; grep -c www /etc/hosts; ping -c 1 -W 2 10.77.0.2 >/dev/null && echo reachable || echo gone",
    ],
    true,
  );
  assert.equal(inside.stdout, "10.77.0.9/24\n0\ngone\n");
  await docker(["rm", "-f", "web"]);
  await docker(["network", "rm", "side"]);
});

test("-p publishes a container's port on the host's loopback; -p with no host port picks one; a taken port fails the start and says so", { timeout: 400_000 }, async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  const taken = (busy.address() as net.AddressInfo).port;
  try {
    await docker(["run", "-d", "--name", "site", "-p", "127.0.0.1::80", "busybox", "sh", "-c", SERVE("published-page")]);
    const mapping = (await docker(["port", "site", "80"])).stdout.trim();
    const m = /^127\.0\.0\.1:(\d+)$/.exec(mapping);
    assert.ok(m, `docker port: ${mapping}`);
    assert.equal(await httpGet(Number(m[1])), "published-page\n");
    const ps = await docker(["ps", "--format", "{{.Names}} {{.Ports}}"]);
    assert.match(ps.stdout, new RegExp(`^site 127\\.0\\.0\\.1:${m[1]}->80/tcp$`, "m"));
    await docker(["rm", "-f", "site"]);
    // The port is free again once the container is gone.
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer().once("error", reject);
      probe.listen(Number(m[1]), "127.0.0.1", () => probe.close(() => resolve()));
    });
    const clash = await docker(["run", "-d", "--name", "clash", "-p", `${taken}:80`, "busybox", "sleep", "30"], true);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${taken} failed: port is already allocated`));
    assert.match((await docker(["ps", "-a", "--filter", "name=clash", "--format", "{{.Status}}"])).stdout, /^Created/);
    await docker(["rm", "-f", "clash"]);
  } finally {
    busy.close();
  }
});

test(
  "containers reach the host's services through the engine machine (by its gateway and by --add-host host-gateway) but not those on its loopback only, resolve names with the host's resolver, on the default bridge and on their own networks, and never reach another network's containers",
  { timeout: 400_000 },
  async (t) => {
    // A service on every address of the host, as Docker's host-gateway reaches one; and one on its loopback only,
    // which an untrusted image must not reach (Docker's containers cannot either).
    const server = http.createServer((_req, res) => res.end("from the host\n"));
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const loopbackOnly = http.createServer((_req, res) => res.end("loopback secret\n"));
    await new Promise<void>((resolve) => loopbackOnly.listen(0, "127.0.0.1", resolve));
    const secretPort = (loopbackOnly.address() as net.AddressInfo).port;
    try {
      const bridge = await docker(["run", "--rm", "busybox", "sh", "-c", `wget -q -O - http://192.168.86.1:${port}/; wget -q -O - http://192.168.86.1:${secretPort}/ || echo refused`], true);
      assert.equal(bridge.stdout, "from the host\nrefused\n", bridge.stderr);

      await docker(["network", "create", "outnet"]);
      await docker(["run", "-d", "--name", "inner", "--network", "outnet", "busybox", "sh", "-c", SERVE("inner")]);
      const innerIp = (await docker(["inspect", "-f", "{{.NetworkSettings.Networks.outnet.IPAddress}}", "inner"])).stdout.trim();
      assert.match(innerIp, /^172\.\d+\.0\.2$/);
      // On its own network: the host, and its neighbour through the bridge.
      const own = await docker(
        [
          "run",
          "--rm",
          "--network",
          "outnet",
          "busybox",
          "sh",
          "-c",
          `wget -q -O - http://192.168.86.1:${port}/ && for i in $(seq 50); do wget -q -O - http://inner/index.html && break; sleep 0.2; done`,
        ],
        true,
      );
      assert.equal(own.stdout, "from the host\ninner\n", own.stderr);
      // From the default bridge: the host by name, but not outnet's container (the engine routes out, not across).
      const outsider = await docker(
        [
          "run",
          "--rm",
          "--add-host",
          "host.docker.internal:host-gateway",
          "busybox",
          "sh",
          "-c",
          `wget -q -O - http://host.docker.internal:${port}/; ping -c 1 -W 2 ${innerIp} >/dev/null 2>&1 && echo reached || echo isolated; wget -q -O - http://${innerIp}/index.html 2>&1 || echo refused`,
        ],
        true,
      );
      assert.match(outsider.stdout, /^from the host\nisolated\n/, outsider.stderr);
      assert.doesNotMatch(outsider.stdout, /^inner$/m);
      assert.match(outsider.stdout, /refused\n$/);
      await docker(["rm", "-f", "inner"]);
      await docker(["network", "rm", "outnet"]);

      let name = "";
      let expected: string[] = [];
      try {
        name = new URL(resolveDebianMirror().url).hostname;
        expected = (await dns.resolve4(name)).sort();
      } catch (err) {
        return t.skip(`the host resolves no known name (${(err as Error).message})`);
      }
      const looked = await docker(["run", "--rm", "busybox", "nslookup", "-type=a", name], true);
      const answered = [...(looked.stdout.split("Name:")[1] ?? "").matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]!).sort();
      assert.deepEqual(answered, expected, looked.stdout + looked.stderr);
    } finally {
      server.close();
      loopbackOnly.close();
    }
  },
);

test("a Dockerfile's RUN reaches the network as Docker's builder does (the default bridge); with --network none it has loopback only; another mode is refused", { timeout: 400_000 }, async () => {
  const server = http.createServer((_req, res) => res.end("fetched during the build\n"));
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const ctx = await mkdtemp(path.join(os.tmpdir(), "hangar-build-net-"));
  try {
    await writeFile(path.join(ctx, "Dockerfile"), `FROM busybox\nRUN wget -q -O /fetched.txt http://192.168.86.1:${port}/ && ip route | grep -c default > /routes\n`);
    const built = await docker(["build", "-q", "-t", "fetcher", ctx], true);
    assert.equal(built.code, 0, built.stderr);
    assert.equal((await docker(["run", "--rm", "fetcher", "cat", "/fetched.txt", "/routes"])).stdout, "fetched during the build\n1\n");
    const isolated = await docker(["build", "--network", "none", "--no-cache", "-t", "fetcher:none", ctx], true);
    assert.notEqual(isolated.code, 0);
    assert.match(isolated.stdout + isolated.stderr, /returned a non-zero code/);
    const host = await docker(["build", "--network", "host", "-t", "fetcher:host", ctx], true);
    assert.notEqual(host.code, 0);
    assert.match(host.stderr, /network mode "host" is not supported for builds/);
    // The steps' addresses were given back: a container started now gets the bridge's first address.
    assert.equal((await docker(["run", "--rm", "busybox", "sh", "-c", "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'"])).stdout, "inet 172.17.0.2\n");
  } finally {
    server.close();
    await rm(ctx, { recursive: true, force: true });
    await docker(["rmi", "-f", "fetcher"], true);
  }
});

test("breakout attempt: a container with Docker's default CAP_NET_RAW forges another network's source addresses, and its packets still never reach that network", { timeout: 400_000 }, async () => {
  // A static i386 program (gcc -m32 -static) that forges IPv4/UDP packets, and listens for them.
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-spoof-ctx-"));
  try {
    execFileSync("gcc", ["-m32", "-static", "-O2", "-o", path.join(context, "spoof-udp"), path.join(__dirname, "attacks", "spoof-udp.c")]);
    await writeFile(path.join(context, "Dockerfile"), "FROM busybox\nCOPY spoof-udp /spoof-udp\n");
    await docker(["build", "-q", "-t", "spoofer", context]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  await docker(["network", "create", "victimnet"]);
  try {
    await docker(["run", "-d", "--name", "victim", "--network", "victimnet", "spoofer", "sh", "-c", "/spoof-udp listen 9001 > /tmp/9001 & /spoof-udp listen 9002 > /tmp/9002 & wait"]);
    const victimIp = (await docker(["inspect", "-f", "{{.NetworkSettings.Networks.victimnet.IPAddress}}", "victim"])).stdout.trim();
    const gateway = (await docker(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "victimnet"])).stdout.trim();
    const neighbour = victimIp.replace(/\.\d+$/, ".77");
    const received = async (port: number): Promise<string> => (await docker(["exec", "victim", "cat", `/tmp/${port}`], true)).stdout;
    // The control: from the victim's own network the forged packet arrives, so the program and the listener work.
    const control = await docker(["run", "--rm", "--network", "victimnet", "spoofer", "/spoof-udp", neighbour, victimIp, "9001", "control"]);
    assert.equal(control.stdout, "sent\n", control.stderr);
    let got = "";
    for (let i = 0; i < 50 && !got.includes("control"); i++) {
      await new Promise((r) => setTimeout(r, 200));
      got = await received(9001);
    }
    assert.match(got, new RegExp(`^${neighbour.replace(/\./g, "\\.")} control$`, "m"), "the forged packet arrives on its own network");
    // The attack: from the default bridge, posing as the victim network's gateway and as one of its containers.
    for (const source of [gateway, neighbour]) {
      const attack = await docker(["run", "--rm", "spoofer", "/spoof-udp", source, victimIp, "9002", `forged-as-${source}`], true);
      assert.ok(attack.stdout === "sent\n" || attack.code !== 0, attack.stderr);
    }
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await received(9002), "", "no forged packet crossed into the other network");
  } finally {
    await docker(["rm", "-f", "victim"], true);
    await docker(["network", "rm", "victimnet"], true);
    await docker(["rmi", "spoofer"], true);
  }
});
