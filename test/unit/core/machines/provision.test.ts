// Which provisioners a command runs, by Vagrant 2.3's rules
// (lib/vagrant/action/builtin/provision.rb, the up/reload/provision commands'
// options), and how --provision-with is checked (commands/up/start_mixins.rb).
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkProvisionWith, provisionPlan, type ProvisionFlags } from "../../../../src/core/machines/provision";
import type { MachineConfig, Provisioner } from "../../../../src/core/vagrantfile/machine-config";
import { provisionFlags } from "../../../../src/cli/commands/machine-lifecycle";
import { provisioner } from "./provisioner-fixture";

// One of each kind, in Vagrantfile order.
const once = provisioner({ inline: "echo once" });
const always = provisioner({ name: "svc", run: "always" });
const never = provisioner({ name: "reset-db", run: "never" });
const conf = provisioner({ type: "file", name: "conf", inline: null, source: "app.conf", destination: "/tmp/app.conf" });
const all = [once, always, never, conf];

const ran = (f: ProvisionFlags): Provisioner[] => provisionPlan(all, f).run;

test("up: once and always ones on the first up; only always ones once the machine was provisioned, with Vagrant's note", () => {
  assert.deepEqual(provisionPlan(all, { provisioned: false, command: "up" }), { run: [once, always, conf], notes: [], markProvisioned: true });
  const again = provisionPlan(all, { provisioned: true, command: "up" });
  assert.deepEqual(again.run, [always]);
  assert.deepEqual(again.notes, ["Machine already provisioned. Run `hangar provision` or use the `--provision` flag to force provisioning. Provisioners marked to run always will still run."]);
  assert.equal(again.markProvisioned, true);
});

test("up/reload --provision runs once ones again; never ones still need --provision-with", () => {
  assert.deepEqual(ran({ provisioned: true, enabled: true, command: "up" }), [once, always, conf]);
});

test("--no-provision runs nothing, not even always ones, and leaves the machine unprovisioned (Vagrant writes no sentinel)", () => {
  for (const provisioned of [false, true]) {
    assert.deepEqual(provisionPlan(all, { provisioned, enabled: false, command: "up" }), {
      run: [],
      notes: ["Machine not provisioned because `--no-provision` is specified."],
      markProvisioned: false,
    });
  }
});

test("provision runs once and always ones whatever the record says, never ones only by name", () => {
  assert.deepEqual(ran({ provisioned: true, command: "provision" }), [once, always, conf]);
  assert.deepEqual(ran({ provisioned: true, command: "provision", only: ["reset-db"] }), [never]);
});

test("--provision-with picks by name or by type; a never one only by its name, not by its type", () => {
  assert.deepEqual(ran({ provisioned: true, command: "provision", only: ["shell"] }), [once, always]);
  assert.deepEqual(ran({ provisioned: true, command: "provision", only: ["file"] }), [conf]);
  assert.deepEqual(ran({ provisioned: true, command: "provision", only: ["conf", "reset-db"] }), [never, conf]);
  // On up/reload it overrides the record, as --provision does.
  assert.deepEqual(ran({ provisioned: true, command: "up", only: ["shell"] }), [once, always]);
  assert.deepEqual(ran({ provisioned: true, command: "up", only: ["reset-db"] }), [never]);
  // A never provisioner named by a shell's `name:` (Vagrant's options[:name]) counts as named.
  const scriptNamed = provisioner({ name: "seed", run: "never", options: { name: "seed" } });
  assert.deepEqual(provisionPlan([scriptNamed], { provisioned: true, command: "provision", only: ["seed"] }).run, [scriptNamed]);
});

test("a machine without provisioners gets no notes", () => {
  assert.deepEqual(provisionPlan([], { provisioned: true, command: "up" }), { run: [], notes: [], markProvisioned: true });
  assert.deepEqual(provisionPlan([], { provisioned: false, enabled: false, command: "up" }), { run: [], notes: [], markProvisioned: false });
});

const machine = (provisioners: Provisioner[]): MachineConfig => ({ name: "default", provisioners }) as MachineConfig;

test("--provision-with: a provisioner's name or a provisioner type is accepted; anything else gets Vagrant's error", () => {
  const machines = [machine(all)];
  checkProvisionWith(machines, undefined);
  checkProvisionWith(machines, ["reset-db"]);
  checkProvisionWith(machines, ["shell", "file"]);
  checkProvisionWith(machines, ["ansible"]);
  assert.throws(() => checkProvisionWith(machines, ["resetdb"]), {
    message: /^'resetdb' is not a known provisioner\. Please specify a valid provisioner\. The Vagrantfile's provisioners are named 'svc', 'reset-db', 'conf'/,
  });
  assert.throws(() => checkProvisionWith(machines, ["shell", "nope"]), { message: /^'nope' is not a known provisioner/ });
  // As Vagrant: once one entry names a provisioner, the others are not checked.
  checkProvisionWith(machines, ["svc", "nope"]);
  assert.throws(() => checkProvisionWith([machine([once])], ["x"]), { message: /No provisioner has a name/ });
});

test("the CLI reads Vagrant's start options: --provision, --no-provision, --provision-with x,y (or =x,y)", () => {
  assert.deepEqual(provisionFlags(["web", "--provision-with", "a,b", "db"]), { rest: ["web", "db"], provisionWith: ["a", "b"] });
  assert.deepEqual(provisionFlags(["--provision-with=shell"]), { rest: [], provisionWith: ["shell"] });
  assert.deepEqual(provisionFlags(["--no-provision", "-f"]), { rest: ["-f"], provision: false });
  assert.deepEqual(provisionFlags(["--provision"]), { rest: [], provision: true });
  assert.throws(() => provisionFlags(["--provision-with"]), /--provision-with needs provisioner names or types/);
});
