// A machine's SSH endpoint and forwarded ports, driven by the real OpenSSH
// client (ssh, scp, sftp with `hangar ssh-config`) and curl: the vagrant user
// with sudo, key-only logins, loopback-only binds, local port forwarding, a
// 10 MB download from busybox httpd through a forwarded port, auto-corrected
// collisions and a clear error for a taken port.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import packageJson from "../../../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../fixtures/default-box-home";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let project = "";
let cfg = "";
const held: net.Server[] = [];
let webPort = 0;
let heldPort = 0;

async function run(file: string, args: string[], o: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(file, args, { cwd: project, env: { ...process.env, HANGAR_HOME: home, ...o.env }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (!o.allowFail) throw new Error(`${path.basename(file)} ${args.join(" ")} failed (${e.code}): ${e.stderr}`);
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const hangar = (args: string[], o: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}) => run(process.execPath, [CLI, ...args], o);
const ssh = (args: string[], allowFail = false) => run("ssh", ["-F", cfg, ...args], { allowFail });

async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve()));
  return server;
}

async function freePort(): Promise<number> {
  const s = await listen();
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

before(async () => {
  home = await homeWithDefaultBox();
  project = await mkdtemp(path.join(os.tmpdir(), "hangar-ssh-"));
  // One port held by "another program": the SSH base (auto-corrected) and a forward without auto_correct collide with it.
  const blocker = await listen();
  held.push(blocker);
  heldPort = (blocker.address() as net.AddressInfo).port;
  webPort = await freePort();
  // "web" names a box that is not installed and says where it is (box_url: a missing file first, then the
  // default box's folder as a file: URL), so `up` adds it as Vagrant does, then picks it by box_version.
  const boxes = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox");
  const boxFolder = path.join(boxes, (await readdir(boxes))[0], "embedded");
  await writeFile(
    path.join(project, "Vagrantfile"),
    [
      'Vagrant.configure("2") do |config|',
      '  config.vm.box = "hangar/debian-busybox"',
      `  config.vm.provider "hangar" do |h|`,
      `    h.memory = ${FIXTURE_MEMORY_MIB}`,
      "  end",
      '  config.vm.define "web" do |web|',
      '    web.vm.box = "team/devbox"',
      `    web.vm.box_url = ["boxes/missing.box", "${pathToFileURL(boxFolder).href}"]`,
      '    web.vm.box_version = ">= 0, < 1"',
      "    web.vm.boot_timeout = 120",
      `    web.vm.post_up_message = "The web machine is up.\\nSee http://localhost:${webPort}/"`,
      `    web.vm.network "forwarded_port", guest: 80, host: ${webPort}`,
      `    web.vm.network "forwarded_port", guest: 8000, host: ${heldPort}, auto_correct: true`,
      "  end",
      '  config.vm.define "clash", autostart: false do |clash|',
      `    clash.vm.network "forwarded_port", guest: 80, host: ${heldPort}`,
      "  end",
      "end",
      "",
    ].join("\n"),
  );
});

after(async () => {
  await hangar(["destroy", "-f"], { allowFail: true });
  for (const s of held) s.close();
  await rm(project, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("up binds the SSH endpoint and forwarded ports on 127.0.0.1, moving collisions and saying so", { timeout: 240_000 }, async () => {
  const up = await hangar(["up", "web"], { env: { HANGAR_SSH_PORT_BASE: String(heldPort) } });
  assert.match(up.stdout, new RegExp(`fixed port collision for 22 => ${heldPort}\\. Now on port \\d+`));
  assert.match(up.stdout, new RegExp(`fixed port collision for 8000 => ${heldPort}\\. Now on port \\d+`));
  // Vagrant's framing of post_up_message, after the machine is up.
  assert.ok(
    up.stdout.includes(
      [
        "==> web: Machine 'web' has a post `vagrant up` message. This is a message",
        "==> web: from the creator of the Vagrantfile, and not from Vagrant itself:",
        "==> web:",
        "==> web: The web machine is up.",
        `==> web: See http://localhost:${webPort}/`,
      ].join("\n"),
    ),
    up.stdout,
  );
  // The box came from box_url (the missing file was tried first), installed as version 0 under the Vagrantfile's name.
  assert.match((await hangar(["box", "list"])).stdout, /^team\/devbox\s+\(embedded, 0\)/m);
  const ports = (await hangar(["port", "web"])).stdout;
  assert.match(ports, new RegExp(`80 \\(guest\\) => ${webPort} \\(host\\)`));
  assert.equal((await hangar(["port", "web", "--guest", "80"])).stdout.trim(), String(webPort));
  cfg = path.join(project, "ssh_config");
  const config = (await hangar(["ssh-config", "web"])).stdout;
  assert.match(config, /^Host web\n {2}HostName 127\.0\.0\.1\n {2}User vagrant\n {2}Port \d+\n/);
  assert.match(config, /StrictHostKeyChecking no/);
  assert.match(config, /UserKnownHostsFile \/dev\/null/);
  assert.match(config, new RegExp(`IdentityFile ${path.join(project, ".hangar", "machines", "web", "private_key").replace(/[.]/g, "\\.")}`));
  await writeFile(cfg, config);
  const sshPort = Number(/Port (\d+)/.exec(config)![1]);
  assert.notEqual(sshPort, heldPort);

  // Loopback only: the endpoint is not reachable on the computer's other addresses.
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === "IPv4" && !i.internal);
  if (external) {
    const reached = await new Promise<boolean>((resolve) => {
      const c = net.connect(sshPort, external.address);
      c.once("connect", () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    assert.equal(reached, false, `the SSH endpoint answered on ${external.address}`);
  }
});

test("OpenSSH logs in as vagrant with the machine's key; sudo makes it root; exit codes come back; passwords are refused", { timeout: 120_000 }, async () => {
  const r = await ssh(["web", "whoami; sudo id -u; sudo -u vagrant id -un; cd /vagrant && ls Vagrantfile"]);
  assert.equal(r.stdout, "vagrant\n0\nvagrant\nVagrantfile\n");
  assert.equal((await ssh(["web", "exit 7"], true)).code, 7);
  const password = await ssh(["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "BatchMode=yes", "web", "true"], true);
  assert.equal(password.code, 255, "a login without the key must fail");
  assert.match(password.stderr + password.stdout, /denied|Permission/i);
});

test("scp and sftp copy files both ways (SFTP subsystem)", { timeout: 180_000 }, async () => {
  const data = randomBytes(1024 * 1024);
  const local = path.join(project, "up.bin");
  await writeFile(local, data);
  await run("scp", ["-F", cfg, local, "web:/home/vagrant/up.bin"]);
  assert.equal((await ssh(["web", "sha256sum /home/vagrant/up.bin"])).stdout.split(" ")[0], sha(data));
  const back = path.join(project, "back.bin");
  await run("scp", ["-F", cfg, "web:/home/vagrant/up.bin", back]);
  assert.equal(sha(await readFile(back)), sha(data));
  const batch = path.join(project, "sftp-batch");
  await writeFile(batch, `mkdir made-by-sftp\nput ${local} made-by-sftp/again.bin\nls -l made-by-sftp\n`);
  const listing = await run("sftp", ["-F", cfg, "-b", batch, "web"]);
  assert.match(listing.stdout, /again\.bin/);
  assert.equal((await ssh(["web", "stat -c '%U %s' made-by-sftp/again.bin"])).stdout, `vagrant ${data.length}\n`);
});

test("a forwarded port serves a 10 MB download whole; ssh -L forwards too; a taken port without auto_correct fails up cleanly", { timeout: 240_000 }, async () => {
  const started = await ssh(["web", "sudo mkdir -p /srv/www && sudo dd if=/dev/urandom of=/srv/www/big.bin bs=1M count=10 2>/dev/null && sha256sum /srv/www/big.bin && sudo httpd -p 80 -h /srv/www"]);
  const guestSha = started.stdout.split(" ")[0];
  const out = path.join(project, "download.bin");
  await run("curl", ["-sS", "--fail", "--max-time", "120", "-o", out, `http://127.0.0.1:${webPort}/big.bin`]);
  const downloaded = await readFile(out);
  assert.equal(downloaded.length, 10 * 1024 * 1024);
  assert.equal(sha(downloaded), guestSha);

  // Local port forwarding over the machine's SSH server (ssh -L), as with any SSH host.
  const local = await freePort();
  const tunnel = spawn("ssh", ["-F", cfg, "-N", "-o", "ExitOnForwardFailure=yes", "-L", `${local}:127.0.0.1:80`, "web"], { stdio: "ignore" });
  try {
    let body = "";
    // The tunnel is up once ssh has logged in (an emulated handshake takes a second or two).
    for (let i = 0; i < 60 && body !== "200"; i++) {
      await new Promise((r) => setTimeout(r, 500));
      body = (await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", `http://127.0.0.1:${local}/big.bin`], { allowFail: true })).stdout;
    }
    assert.equal(body, "200", "httpd answered through ssh -L");
  } finally {
    tunnel.kill();
  }

  const clash = await hangar(["up", "clash"], { allowFail: true });
  assert.notEqual(clash.code, 0);
  // Vagrant's port-collision error, naming the port, the guest port and the two ways out.
  assert.match(
    clash.stderr,
    new RegExp(
      `collide with some other application.*The forwarded port to ${heldPort} \\(host 127\\.0\\.0\\.1:${heldPort}, guest port 80\\) is already in use on the host machine.*guest: 80, host: 1234.*auto_correct: true`,
      "s",
    ),
  );
  assert.match((await hangar(["status", "clash"])).stdout, /clash\s+not created/);
});
