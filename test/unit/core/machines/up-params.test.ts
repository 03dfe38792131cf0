// `up` and `snapshot restore` ask the machine daemon to run a machine with
// the same parameters, built in one place (up-params.ts): a snapshot restore
// once sent `hostname: null`, so a Vagrantfile's hostname did not reach it.
// A stand-in daemon on the home's socket records what each path sends; no
// emulator boots.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { daemonSocketPath } from "../../../../src/core/daemon/machine-daemon";
import type { DaemonRequest, MachineInfo, UpParams } from "../../../../src/core/daemon/daemon-protocol";
import { ProjectMachines } from "../../../../src/core/machines/project-machines";
import { RubyEvaluator } from "../../../../src/core/vagrantfile/ruby-evaluator";

const ruby = new RubyEvaluator({ timeoutMs: 30_000 });
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  ruby.dispose();
  for (const c of cleanup.reverse()) await c();
});

/** Answers `list` (nothing runs) and `up`, keeping each `up`'s parameters. */
async function standInDaemon(home: string): Promise<UpParams[]> {
  const ups: UpParams[] = [];
  const server = net.createServer((conn) => {
    let buffer = "";
    conn.on("data", (chunk) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const req = JSON.parse(buffer.slice(0, nl)) as DaemonRequest;
        buffer = buffer.slice(nl + 1);
        let result: unknown = [];
        if (req.method === "up") {
          ups.push(req.params);
          result = { key: req.params.key, sshPort: 2222, ports: [], startedAt: new Date().toISOString() } satisfies MachineInfo;
        }
        conn.write(JSON.stringify({ id: req.id, result }) + "\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(daemonSocketPath(home), resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  return ups;
}

test("up and snapshot restore send the daemon the same parameters, the Vagrantfile's hostname included", { timeout: 120_000 }, async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-up-params-"));
  cleanup.push(() => rm(tmp, { recursive: true, force: true }));
  const home = path.join(tmp, "home");
  await mkdir(home, { mode: 0o700 });
  const projectDir = path.join(tmp, "project");
  await mkdir(projectDir);
  const vagrantfile = path.join(projectDir, "Vagrantfile");
  await writeFile(
    vagrantfile,
    `Vagrant.configure("2") do |config|
  config.vm.box = "hangar/debian-busybox"
  config.vm.hostname = "web.example"
  config.vm.network "forwarded_port", guest: 80, host: 8080
end
`,
  );
  const ups = await standInDaemon(home);
  const project = new ProjectMachines(vagrantfile, home, ruby, {}, { defaultMemoryMiB: 192 });
  // A created, powered-off machine: its record names its box, so no box needs to be installed.
  await project.records.write("default", {
    box: "hangar/debian-busybox",
    boxVersion: "1.0.0",
    boxDir: path.join(tmp, "box"),
    createdAt: new Date().toISOString(),
    state: "poweroff",
    provisioned: true,
  });

  await project.up(["default"]);
  const snapshot = path.join(project.records.stateDir("default"), "snapshots", "before.state");
  await mkdir(path.dirname(snapshot));
  await writeFile(snapshot, "a saved state");
  await project.snapshotRestore("default", "before");

  assert.equal(ups.length, 2);
  const [fromUp, fromRestore] = ups;
  assert.equal(fromUp.hostname, "web.example", "up");
  assert.equal(fromRestore.hostname, "web.example", "snapshot restore");
  assert.equal(fromUp.resumeFrom, undefined, "a powered-off machine boots");
  assert.equal(fromRestore.resumeFrom, snapshot);
  const { resumeFrom: _, ...restoreRest } = fromRestore;
  assert.deepEqual(restoreRest, fromUp, "everything but the state to resume from is the same");
  assert.equal(fromUp.memoryMiB, 192);
  assert.deepEqual(
    fromUp.forwards?.map((f) => [f.guest, f.host]),
    [
      [22, 2222],
      [80, 8080],
    ],
    "the SSH endpoint, then the forwarded port",
  );
});

test("memory the embedded emulator cannot give is refused before anything is added, built or started, naming the setting", { timeout: 120_000 }, async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-up-memory-"));
  cleanup.push(() => rm(tmp, { recursive: true, force: true }));
  const home = path.join(tmp, "home");
  await mkdir(home, { mode: 0o700 });
  const vagrantfile = path.join(tmp, "Vagrantfile");
  await writeFile(vagrantfile, `Vagrant.configure("2") do |config|\n  config.vm.box = "hangar/debian-busybox"\n  config.vm.provider "hangar" do |v|\n    v.memory = 8192\n  end\nend\n`);
  const ups = await standInDaemon(home);
  const project = new ProjectMachines(vagrantfile, home, ruby, { HANGAR_DEBIAN_MIRROR: "http://127.0.0.1:9/debian" }, {});
  await assert.rejects(project.up(["default"]), /'default' asks for 8192 MiB of memory, but the embedded emulator gives a machine 64 to 3072 MiB.*v\.memory/);
  assert.deepEqual(ups, [], "nothing was started");
  // Neither the box was added (a missing built-in box would be) nor a record written.
  assert.ok(!existsSync(path.join(home, "boxes")), "no box was added");
  assert.equal(await project.records.read("default"), undefined);

  // The user's default is checked too, and named.
  await writeFile(vagrantfile, `Vagrant.configure("2") do |config|\n  config.vm.box = "hangar/debian-busybox"\nend\n`);
  const tiny = new ProjectMachines(vagrantfile, home, ruby, {}, { defaultMemoryMiB: 16 });
  await assert.rejects(tiny.up(["default"]), /asks for 16 MiB.*hangar\.machines\.defaultMemory/);
});
