// Private networks across two projects of one Hangar home, on real guests:
// the classic web + db pair (web fetches a page from db at db's private
// address, db pings web back), type: "dhcp" addresses handed out by Hangar
// and shown by `hangar status`, an address nobody holds staying silent, and
// a third machine asking for an address a running machine holds refused
// before it boots.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let root = "";

async function hangar(project: string, args: string[], allowFail = false): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, ...args], { cwd: path.join(root, project), env: { ...process.env, HANGAR_HOME: home } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (!allowFail) throw new Error(`hangar ${args.join(" ")} in ${project} failed (${e.code}): ${e.stderr}`);
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function project(name: string, machine: string, networks: string[]): Promise<void> {
  await mkdir(path.join(root, name));
  await writeFile(
    path.join(root, name, "Vagrantfile"),
    [
      'Vagrant.configure("2") do |config|',
      '  config.vm.box = "hangar/debian-busybox"',
      `  config.vm.provider("hangar") { |h| h.memory = ${FIXTURE_MEMORY_MIB} }`,
      `  config.vm.define "${machine}" do |m|`,
      ...networks.map((n) => `    m.vm.network "private_network", ${n}`),
      "  end",
      "end",
      "",
    ].join("\n"),
  );
}

before(async () => {
  home = await homeWithDefaultBox();
  root = await mkdtemp(path.join(os.tmpdir(), "hangar-private-"));
  await project("app", "web", ['ip: "192.168.56.10"', 'type: "dhcp"']);
  await project("data", "db", ['ip: "192.168.56.11", netmask: "255.255.255.0"', 'type: "dhcp"']);
  await project("other", "clash", ['ip: "192.168.56.11"']);
});

after(async () => {
  for (const p of ["app", "data"]) await hangar(p, ["destroy", "-f"], true);
  await rm(root, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("two machines of two projects reach each other on their private network; dhcp addresses come from Hangar", { timeout: 300_000 }, async () => {
  // Both at once: each project's `up` runs in its own process against the one daemon.
  const [web, db] = await Promise.all([hangar("app", ["up"]), hangar("data", ["up"])]);
  assert.match(web.stdout, /web: running \(ssh on 127\.0\.0\.1:\d+; private network 192\.168\.56\.10\/24, 172\.28\.128\.\d+\/24\)/);
  assert.match(db.stdout, /db: running \(ssh on 127\.0\.0\.1:\d+; private network 192\.168\.56\.11\/24, 172\.28\.128\.\d+\/24\)/);
  const webDhcp = /172\.28\.128\.(\d+)/.exec(web.stdout)![0];
  const dbDhcp = /172\.28\.128\.(\d+)/.exec(db.stdout)![0];
  assert.notEqual(webDhcp, dbDhcp, "each machine gets its own dhcp address");
  assert.match((await hangar("app", ["status"])).stdout, new RegExp(`^web\\s+running \\(embedded\\)\\s+192\\.168\\.56\\.10/24, ${webDhcp.replace(/\./g, "\\.")}/24$`, "m"));
  // The guest has the addresses on its interface (beside the NAT's).
  assert.match((await hangar("app", ["ssh", "-c", "ip -4 addr show dev eth0"])).stdout, /inet 192\.168\.56\.10\/24/);

  // db serves a page; web fetches it at db's private address, on both networks.
  await hangar("data", ["ssh", "-c", "sudo mkdir -p /srv/db && echo 'hello from db' | sudo tee /srv/db/index.html >/dev/null && sudo httpd -p 8000 -h /srv/db"]);
  assert.equal((await hangar("app", ["ssh", "-c", "timeout 30 wget -qO- http://192.168.56.11:8000/"])).stdout, "hello from db\n");
  assert.equal((await hangar("app", ["ssh", "-c", `timeout 30 wget -qO- http://${dbDhcp}:8000/`])).stdout, "hello from db\n");
  // And back: db pings web (ICMP crosses the switch too).
  assert.match((await hangar("data", ["ssh", "-c", "sudo ping -c 2 -W 5 192.168.56.10"])).stdout, /2 packets received/);
  // An address nobody holds stays silent (busybox wget's -T crashes, hence timeout).
  const nobody = await hangar("app", ["ssh", "-c", "sudo ping -c 1 -W 2 192.168.56.99"], true);
  assert.notEqual(nobody.code, 0);
  assert.match(nobody.stdout, /0 packets received/);
});

test("an address a running machine holds is refused before the machine boots", { timeout: 120_000 }, async () => {
  const clash = await hangar("other", ["up"], true);
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /The private network address 192\.168\.56\.11 is already used by the running machine 'db' of .*data/);
  assert.match((await hangar("other", ["status"])).stdout, /^clash\s+not created/m);
  // Once db halts, its address is free again.
  await hangar("data", ["halt"]);
  const up = await hangar("other", ["up"]);
  assert.match(up.stdout, /clash: running .*private network 192\.168\.56\.11\/24/);
  await hangar("other", ["destroy", "-f"]);
});
