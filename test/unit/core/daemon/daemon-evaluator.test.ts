// Vagrantfiles evaluated in the machine daemon's Ruby (kept loaded between CLI
// commands) when a daemon runs, else in a Ruby of the CLI's own: the same
// record either way, with the caller's environment.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DaemonEvaluator } from "../../../../src/core/daemon/daemon-evaluator";
import { daemonSocketPath, MachineDaemon } from "../../../../src/core/daemon/machine-daemon";

const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function home(): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-daemon-eval-"));
  cleanup.push(() => rm(tmp, { recursive: true, force: true }));
  const h = path.join(tmp, "home");
  await mkdir(h, { mode: 0o700 });
  return h;
}

const SOURCE = 'Vagrant.configure("2") do |config|\n  config.vm.box = ENV.fetch("BOX_FROM_ENV")\nend\n';

/** The box the record names (undefined, with the error in the message, when Ruby failed). */
function box(record: Awaited<ReturnType<DaemonEvaluator["evaluate"]>>): unknown {
  assert.equal(record.error, undefined, JSON.stringify(record.error));
  return record.error ? undefined : record.global.vm.settings.box;
}

test("a running daemon evaluates, with the caller's environment each time", async () => {
  const h = await home();
  const daemon = await MachineDaemon.listen(h);
  cleanup.push(() => daemon.close());
  const evaluator = new DaemonEvaluator(h);
  try {
    assert.equal(box(await evaluator.evaluate(SOURCE, path.join(h, "Vagrantfile"), { BOX_FROM_ENV: "env/box" })), "env/box");
    assert.equal(box(await evaluator.evaluate(SOURCE, path.join(h, "Vagrantfile"), { BOX_FROM_ENV: "other/box" })), "other/box", "the environment is the caller's, each time");
    assert.equal(evaluator.lastRanIn, "daemon");
  } finally {
    evaluator.dispose();
  }
});

/** One evaluation by a fresh DaemonEvaluator for home `h`: the box it names, and where it ran. */
async function evaluateOnce(h: string, boxName: string): Promise<{ box: unknown; ranIn: string | undefined }> {
  const evaluator = new DaemonEvaluator(h);
  try {
    return { box: box(await evaluator.evaluate(SOURCE, path.join(h, "Vagrantfile"), { BOX_FROM_ENV: boxName })), ranIn: evaluator.lastRanIn };
  } finally {
    evaluator.dispose();
  }
}

test("without a daemon the CLI's own Ruby evaluates, and no daemon is started", async () => {
  const h = await home();
  assert.deepEqual(await evaluateOnce(h, "local/box"), { box: "local/box", ranIn: "own" });
  await assert.rejects(new Promise((resolve, reject) => net.connect(daemonSocketPath(h)).once("connect", resolve).once("error", reject)));
});

// Fake daemon: an older Hangar's daemon (no evaluate method) cannot be produced by this version for real.
test("fake older daemon that refuses evaluate: the CLI's own Ruby evaluates instead", async () => {
  const h = await home();
  const server = net.createServer((conn) =>
    conn.on("data", (chunk) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        const { id, method } = JSON.parse(line) as { id: number; method: string };
        conn.write(JSON.stringify({ id, error: `Unknown request: ${method}` }) + "\n");
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(daemonSocketPath(h), resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  assert.deepEqual(await evaluateOnce(h, "fallback/box"), { box: "fallback/box", ranIn: "own" });
});
