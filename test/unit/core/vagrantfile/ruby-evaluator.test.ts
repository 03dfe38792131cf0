import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { RubyEvaluator, VagrantfileTimeoutError } from "../../../../src/core/vagrantfile/ruby-evaluator";

const evaluator = new RubyEvaluator({ timeoutMs: 8_000 });
after(() => evaluator.dispose());

// Only the folder must exist: Ruby runs in it so relative File.read works.
const FILE = path.join(os.tmpdir(), "Vagrantfile");

test("evaluates real Ruby: loops, interpolation, ENV, puts captured", async () => {
  const record = await evaluator.evaluate(
    `names = %w[a b].map { |n| "node-#{n}" }
puts "defining #{names.join(",")} for #{ENV["WHO"]}"
Vagrant.configure("2") do |config|
  config.vm.box = ENV.fetch("BOX", "fallback")
  names.each { |n| config.vm.define n }
end
`,
    FILE,
    { WHO: "tester" },
  );
  assert.equal(record.error, undefined);
  if (record.error) return;
  assert.equal(record.output, "defining node-a,node-b for tester\n");
  assert.equal(record.global.vm.settings.box, "fallback");
  assert.deepEqual(
    record.machines.map((m) => m.name),
    ["node-a", "node-b"],
  );
});

test("evaluations do not leak into each other (constants, methods, ENV)", async () => {
  const first = await evaluator.evaluate(`LIMIT = 1\ndef helper = "x"\nVagrant.configure("2") { |c| c.vm.box = helper }\n`, FILE, { A: "1" });
  assert.equal(first.error, undefined);
  // Redefining the constant would warn and `helper` would exist if state leaked.
  const second = await evaluator.evaluate(`LIMIT = 2\nVagrant.configure("2") { |c| c.vm.box = ENV["A"] || (defined?(helper) ? "leaked" : "clean") }\n`, FILE, {});
  assert.equal(second.error, undefined);
  if (second.error) return;
  assert.equal(second.global.vm.settings.box, "clean");
  assert.equal(second.output, "");
});

test("a Ruby error comes back with its class, message and Vagrantfile line", async () => {
  const record = await evaluator.evaluate(`Vagrant.configure("2") do |config|\n  config.vm.box = "x"\n  undefined_thing.call\nend\n`, FILE, {});
  assert.ok(record.error);
  assert.equal(record.error.class, "NameError");
  assert.equal(record.error.line, 3);
  assert.match(record.error.message, /undefined local variable or method [`']undefined_thing'/);
});

test("an endless loop is stopped with a clear error, and the next evaluation works (fresh Ruby)", async () => {
  const quick = new RubyEvaluator({ timeoutMs: 3_000 });
  try {
    await assert.rejects(quick.evaluate("loop { }\n", FILE, {}), (err: unknown) => err instanceof VagrantfileTimeoutError && /did not finish within 3 s/.test(err.message));
    const record = await quick.evaluate(`Vagrant.configure("2") { |c| c.vm.box = "after" }\n`, FILE, {});
    assert.equal(record.error, undefined);
    if (!record.error) assert.equal(record.global.vm.settings.box, "after");
  } finally {
    quick.dispose();
  }
});
