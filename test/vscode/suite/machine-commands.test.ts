import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import { activateHangar, children, until, workspaceRoot } from "./helpers";
import { screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

const exec = promisify(execFile);
const boxHome = process.env.HANGAR_TEST_BOX_HOME;

/** A host port nothing listens on now (the forwarded port's host side). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `command` in the guest with the real OpenSSH client, through the configuration the command gave. */
async function sshRun(config: string, host: string, command: string): Promise<string> {
  const { stdout } = await exec("ssh", ["-F", config, host, command], { timeout: 30_000 });
  return stdout;
}

// The palette's commands for CLI verbs (ssh-config, port, validate,
// global-status), a cancelled halt and a setting, on one real running machine.
// The machine lives in a HANGAR_HOME of its own (the default box linked in),
// so its machine daemon is this build's, whatever other checkouts run.
describe("Machine commands", function () {
  this.timeout(180_000);
  let home: string;
  let dir: string;
  let vagrantfile: string;
  let ref: { vagrantfile: string; name: string };
  let forwarded: number;
  let sshConfigFile: string;
  const settings = () => vscode.workspace.getConfiguration("hangar");

  before(async function () {
    if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
    // Named so the launcher's clean-up also finds this home's engine, should the views have started one.
    home = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-vscode-home-cmdtest-"));
    await fs.chmod(home, 0o700);
    await fs.symlink(path.join(boxHome, "boxes"), path.join(home, "boxes"));
    // Out of sight, the Images and Containers views start no engine in this home (the engine test starts and stops its own).
    await vscode.commands.executeCommand("workbench.view.explorer");
    await settings().update("home", home, vscode.ConfigurationTarget.Global);
    // Its Vagrantfile sets no memory: hangar.machines.defaultMemory decides (128 MiB, whose booted state the box keeps).
    await settings().update("machines.defaultMemory", 128, vscode.ConfigurationTarget.Global);
    dir = path.join(workspaceRoot().fsPath, "cmdtest");
    await fs.mkdir(dir, { recursive: true });
    vagrantfile = path.join(dir, "Vagrantfile");
    forwarded = await freePort();
    await fs.writeFile(
      vagrantfile,
      ['Vagrant.configure("2") do |config|', '  config.vm.box = "hangar/debian-busybox"', `  config.vm.network "forwarded_port", guest: 8080, host: ${forwarded}`, "end", ""].join("\n"),
    );
    ref = { vagrantfile, name: "default" };
    sshConfigFile = path.join(home, "ssh_config");
  });

  after(async () => {
    if (!boxHome) return;
    try {
      await vscode.commands.executeCommand("hangar.machine.destroy", ref, { confirm: false });
    } finally {
      await settings().update("machines.defaultMemory", undefined, vscode.ConfigurationTarget.Global);
      await settings().update("home", undefined, vscode.ConfigurationTarget.Global);
      // The Images and Containers views start (and restart) the engine of the home they use: this home's goes with it.
      const pid = Number(await fs.readFile(path.join(home, "engine", "engine.pid"), "utf8").catch(() => ""));
      if (pid && alive(pid)) {
        process.kill(pid, "SIGTERM");
        await until(() => !alive(pid), `this home's engine (pid ${pid}) to exit`, 20_000);
      }
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  it("validate reports a good Vagrantfile's machines and a broken one's error and line", async () => {
    await activateHangar();
    const good = await vscode.commands.executeCommand<{ machines?: Array<{ name: string; memory: number | null }> }>("hangar.vagrantfile.validate", { vagrantfile });
    assert.deepEqual(
      good?.machines?.map((m) => [m.name, m.memory]),
      [["default", null]],
    );
    const broken = path.join(home, "broken", "Vagrantfile");
    await fs.mkdir(path.dirname(broken));
    await fs.writeFile(broken, 'Vagrant.configure("2") do |config|\n  config.vm.box = "x"\n  config.vm.network "forwarded_port", guest: "eighty"\nend\n');
    const bad = await vscode.commands.executeCommand<{ error?: string; line?: number | null }>("hangar.vagrantfile.validate", vscode.Uri.file(broken));
    assert.ok(bad?.error, `an error for the broken Vagrantfile: ${JSON.stringify(bad)}`);
    assert.equal(bad.line, 3, bad.error);
  });

  it("up honours hangar.machines.defaultMemory; ssh-config, ports and global-status describe the running machine", async () => {
    await activateHangar();
    // Cancelled before it starts, up leaves nothing behind.
    const cancelled = await vscode.commands.executeCommand("hangar.machine.up", ref, { signal: AbortSignal.abort() });
    assert.equal(cancelled, undefined);
    assert.deepEqual(await vscode.commands.executeCommand("hangar.machines.globalStatus", { pick: false }), [], "no machine was created");
    const started = await vscode.commands.executeCommand<{ state: string; sshPort: number } | undefined>("hangar.machine.up", ref);
    assert.equal(started?.state, "running", "up started the machine");

    const block = await vscode.commands.executeCommand<string>("hangar.machine.sshConfig", ref, { action: "show" });
    assert.match(block, /^Host default$/m);
    assert.match(block, new RegExp(`^  Port ${started.sshPort}$`, "m"));
    await fs.writeFile(sshConfigFile, block);
    // The real OpenSSH client, with nothing but that block: the guest answers, with the memory the setting gave it.
    const meminfo = await sshRun(sshConfigFile, "default", "grep MemTotal /proc/meminfo; whoami");
    const kib = Number(/MemTotal:\s+(\d+) kB/.exec(meminfo)?.[1]);
    assert.ok(kib > 64 * 1024 && kib <= 128 * 1024, `MemTotal ${kib} kB is within 128 MiB (the setting), not the 256 MiB default`);
    assert.match(meminfo, /^vagrant$/m);

    const ports = await vscode.commands.executeCommand<Array<{ id: string; guest: number; host: number }>>("hangar.ports.list", ref, { pick: false });
    assert.deepEqual(
      ports.map((p) => [p.guest, p.host]).sort((a, b) => a[0] - b[0]),
      [
        [22, started.sshPort],
        [8080, forwarded],
      ],
    );
    // The forwarded port is bound on the host as listed.
    await new Promise<void>((resolve, reject) =>
      net
        .connect(forwarded, "127.0.0.1")
        .once("connect", function (this: net.Socket) {
          this.destroy();
          resolve();
        })
        .once("error", reject),
    );

    const all = await vscode.commands.executeCommand<Array<{ name: string; dir: string; state: string }>>("hangar.machines.globalStatus", { pick: false });
    assert.deepEqual(
      all.map((m) => [m.name, m.dir, m.state]),
      [["default", dir, "running"]],
    );

    if (uiBridgeAvailable) {
      // The ports as a person sees them: the quick pick of Forwarded Ports…
      const picking = vscode.commands.executeCommand("hangar.ports.list", ref);
      await waitForText(".quick-input-widget .monaco-list-row", (rows) => rows.some((r) => r.includes("guest 8080")));
      console.log(`    screenshot: ${await screenshot("hangar-machine-ports")}`);
      await vscode.commands.executeCommand("workbench.action.closeQuickOpen");
      await picking;
    }
  });

  it("a cancelled halt stops at its safe point: the machine is still running, and the user is told so", async () => {
    await activateHangar();
    const abort = new AbortController();
    const halting = vscode.commands.executeCommand<{ cancelled?: boolean; message?: string; state?: string }>("hangar.machine.halt", ref, { signal: abort.signal });
    // Cancelled at once: the daemon gets the halt and then the cancel, keeps the files, and leaves the power on.
    abort.abort();
    const result = await halting;
    assert.equal(result?.cancelled, true, `the halt says it was cancelled: ${JSON.stringify(result)}`);
    assert.match(result.message ?? "", /Halting 'default' was cancelled; it is still running/);
    const all = await vscode.commands.executeCommand<Array<{ name: string; state: string }>>("hangar.machines.globalStatus", { pick: false });
    assert.deepEqual(
      all.map((m) => [m.name, m.state]),
      [["default", "running"]],
    );
    assert.equal((await sshRun(sshConfigFile, "default", "echo still-$((6*7))")).trim(), "still-42", "the guest still answers over SSH");
  });

  it("a cancelled snapshot keeps nothing and the machine runs on; an uncancelled one is listed", async () => {
    await activateHangar();
    const names = async (): Promise<string[]> => ((await vscode.commands.executeCommand<Array<{ name: string }>>("hangar.machine.snapshotList", ref, { pick: false })) ?? []).map((s) => s.name);
    const abort = new AbortController();
    const saving = vscode.commands.executeCommand("hangar.machine.snapshotSave", ref, "cancelled-snap", { signal: abort.signal });
    abort.abort();
    assert.equal(await saving, undefined, "a cancelled save returns no snapshot name");
    assert.deepEqual(await names(), []);
    assert.equal(await vscode.commands.executeCommand("hangar.machine.snapshotSave", ref, "kept-snap"), "kept-snap");
    assert.deepEqual(await names(), ["kept-snap"]);
    assert.equal((await sshRun(sshConfigFile, "default", "echo running")).trim(), "running");
  });

  it("engine start, status and stop act on this home's engine; with startWithViews off the views leave it stopped", async () => {
    const api = await activateHangar();
    // The launcher turns hangar.engine.startWithViews off: a view that lists the stopped engine says so and starts nothing.
    assert.equal(settings().get("engine.startWithViews"), false);
    const rows = await children(api.containersTree);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].label, "Container engine stopped");
    assert.match(String(rows[0].description), /container engine is not running.*Start Container Engine/);
    assert.equal(rows[0].command?.command, "hangar.engine.start", "clicking it starts the engine");
    assert.equal((await vscode.commands.executeCommand<{ running: boolean }>("hangar.engine.status", { show: false })).running, false, "a view started it");
    await vscode.commands.executeCommand("hangar.engine.start");
    const running = await vscode.commands.executeCommand<{ running: boolean; dockerHost: string; pid?: number }>("hangar.engine.status", { show: false });
    assert.equal(running.dockerHost, `unix://${path.join(home, "docker.sock")}`);
    assert.equal(running.running, true, "started");
    const stopped = await vscode.commands.executeCommand<number | undefined>("hangar.engine.stop", { confirm: false });
    assert.equal(stopped, running.pid, "stop names the pid it stopped");
    assert.equal((await vscode.commands.executeCommand<{ running: boolean }>("hangar.engine.status", { show: false })).running, false);
    if (uiBridgeAvailable) {
      // Shown again, the Containers view says the engine is stopped, and does not start it behind the user's back.
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      await waitForText(".part.sidebar", (texts) => texts.some((t) => t.includes("container engine is stopped")), 30_000);
      console.log(`    screenshot: ${await screenshot("hangar-engine-stopped", ".part.sidebar")}`);
      await vscode.commands.executeCommand("workbench.view.explorer");
      assert.equal((await vscode.commands.executeCommand<{ running: boolean }>("hangar.engine.status", { show: false })).running, false, "still stopped");
    }
  });
});
