// Health checks and restart policies in the embedded engine, as dockerd runs
// them, through the real docker CLI and Debian's docker-compose 1.29:
// probes on a timer in the running container, State.Health, `docker ps`
// status and its health filter, health_status events, depends_on
// service_healthy, and restarts by policy (back-off, count, stop by hand).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { runCommand, type Run } from "../fixtures/command-run";
import { engineForThisFile } from "../fixtures/engine-under-test";

const { engine, docker } = engineForThisFile();

interface Inspected {
  Name: string;
  RestartCount: number;
  Config: { Healthcheck?: Record<string, unknown> };
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    StartedAt: string;
    Health?: { Status: string; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
  };
}

async function inspect(name: string): Promise<Inspected> {
  return (JSON.parse((await docker(["inspect", name])).stdout) as Inspected[])[0];
}

/** Inspects `name` until it exists and `ok` holds (every 200 ms, up to `ms`); fails with the last inspect. */
async function until(name: string, ok: (c: Inspected) => boolean, what: string, ms = 120_000): Promise<Inspected> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = await docker(["inspect", name], true);
    const c = run.code === 0 ? (JSON.parse(run.stdout) as Inspected[])[0] : undefined;
    if (c && ok(c)) return c;
    if (Date.now() > deadline) assert.fail(`${name}: ${what} did not happen in ${ms / 1000} s; last inspect: ${c ? JSON.stringify(c.State) : run.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function statusOf(name: string): Promise<string> {
  return (await docker(["ps", "-a", "--filter", `name=${name}`, "--format", "{{.Status}}"])).stdout.trim();
}

async function namesWithHealth(health: string): Promise<string[]> {
  return (await docker(["ps", "--filter", `health=${health}`, "--format", "{{.Names}}"])).stdout.split("\n").filter(Boolean).sort();
}

test(
  "health checks: a Dockerfile HEALTHCHECK under run's flags, starting then healthy once a file exists, unhealthy after its retries, a probe past its timeout killed; ps status and --filter health, health_status events",
  { timeout: 300_000 },
  async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await engine().docker(["build", "-q", "-t", "hc-image", "-"], false, 'FROM busybox\nHEALTHCHECK --interval=2s --retries=1 CMD ["test", "-f", "/tmp/ok"]\n');
    const t0 = Date.now();
    // (where the time goes on a loaded machine)
    const step = (what: string): void => console.error(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    try {
      // hc-slow: one probe at the end of its 1 s start period, killed after 1 s; the next would come 300 s later.
      await docker(["run", "-d", "--name", "hc-slow", "--health-cmd", "sleep 47", "--health-interval", "300s", "--health-start-period", "1s", "--health-timeout", "1s", "busybox", "sleep", "300"]);
      step("hc-slow runs");
      const slow = await until("hc-slow", (c) => (c.State.Health?.Log.length ?? 0) >= 1, "a probe past its timeout");
      const entry = slow.State.Health!.Log[0];
      assert.deepEqual([entry.ExitCode, entry.Output], [-1, "Health check exceeded timeout (1s)"]);
      assert.ok(Date.parse(entry.End) - Date.parse(entry.Start) >= 1000, JSON.stringify(entry));
      // The probe was killed: nothing of it is left in the container.
      const top = (await docker(["top", "hc-slow"])).stdout;
      assert.doesNotMatch(top, /sleep 47/, top);

      step("hc-slow's probe timed out and was killed");
      // hc-ok: the image's check, with a start period from run: its failures do not count until the file exists.
      await docker(["run", "-d", "--name", "hc-ok", "--health-start-period", "60s", "hc-image", "sleep", "300"]);
      await docker(["run", "-d", "--name", "hc-bad", "--health-cmd", "echo bad; exit 1", "--health-interval", "2s", "--health-retries", "2", "busybox", "sleep", "300"]);
      step("hc-ok and hc-bad run");
      const ok = await until("hc-ok", (c) => (c.State.Health?.Log.length ?? 0) >= 1, "a first probe");
      assert.deepEqual(ok.Config.Healthcheck, { Test: ["CMD", "test", "-f", "/tmp/ok"], Interval: 2e9, StartPeriod: 60e9, Retries: 1 });
      assert.equal(ok.State.Health!.Status, "starting");
      assert.equal(ok.State.Health!.FailingStreak, 0, "failures within the start period do not count");
      assert.equal(ok.State.Health!.Log[0].ExitCode, 1);
      assert.match(await statusOf("hc-ok"), /^Up .* \(health: starting\)$/);
      assert.ok((await namesWithHealth("starting")).includes("hc-ok"));

      await docker(["exec", "hc-ok", "touch", "/tmp/ok"]);
      const healthy = await until("hc-ok", (c) => c.State.Health?.Status === "healthy", "healthy");
      assert.equal(healthy.State.Health!.Log.at(-1)!.ExitCode, 0);
      assert.match(await statusOf("hc-ok"), /^Up .* \(healthy\)$/);

      step("hc-ok is healthy");
      const bad = await until("hc-bad", (c) => c.State.Health?.Status === "unhealthy", "unhealthy");
      assert.ok(bad.State.Health!.FailingStreak >= 2, JSON.stringify(bad.State.Health));
      assert.deepEqual(
        bad.State.Health!.Log.map((l) => [l.ExitCode, l.Output]),
        bad.State.Health!.Log.map(() => [1, "bad\n"]),
      );
      assert.match(await statusOf("hc-bad"), /^Up .* \(unhealthy\)$/);
      assert.deepEqual(await namesWithHealth("healthy"), ["hc-ok"]);
      assert.deepEqual(await namesWithHealth("unhealthy"), ["hc-bad"]);
      assert.ok((await namesWithHealth("none")).every((n) => !n.startsWith("hc-")));
      const wrong = await docker(["ps", "--filter", "health=fine"], true);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /Unrecognised filter value for health: fine/);
      // The log keeps the last five.
      assert.ok((await inspect("hc-bad")).State.Health!.Log.length <= 5);
      // (probes cost the emulated engine machine much more than dockerd's host: these two probe no more)
      await docker(["rm", "-f", "hc-ok", "hc-bad"]);

      const events = (
        await docker(["events", "--since", since, "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "event=health_status", "--format", "{{.Action}} {{.Actor.Attributes.name}}"])
      ).stdout;
      assert.match(events, /^health_status: healthy hc-ok$/m);
      assert.match(events, /^health_status: unhealthy hc-bad$/m);
      assert.doesNotMatch(events, /hc-slow/, "one failure of three retries changes nothing");
    } finally {
      await docker(["rm", "-f", "hc-ok", "hc-bad", "hc-slow"], true);
    }
  },
);

test("Compose (Debian's docker-compose): depends_on condition service_healthy starts the dependent only once its dependency is healthy", { timeout: 300_000 }, async () => {
  const project = await mkdtemp(path.join(os.tmpdir(), "hangar-compose-health-"));
  await writeFile(
    path.join(project, "docker-compose.yml"),
    [
      "services:",
      "  db:",
      "    image: busybox",
      '    command: ["sleep", "300"]',
      "    healthcheck:",
      '      test: ["CMD", "test", "-f", "/tmp/ready"]',
      "      interval: 2s",
      "      start_period: 300s",
      "  web:",
      "    image: busybox",
      '    command: ["sh", "-c", "echo web up; exec sleep 300"]',
      "    depends_on:",
      "      db:",
      "        condition: service_healthy",
      "",
    ].join("\n"),
  );
  const compose = (args: string[], allowFail = false): Promise<Run> =>
    runCommand("docker-compose", ["-p", "chealth", ...args], { env: engine().dockerEnv(), cwd: project, allowFail, timeoutMs: 180_000, maxBuffer: 16 * 1024 * 1024 });
  try {
    const up = compose(["up", "-d"]);
    // db runs and has failed a probe (it is healthy only once /tmp/ready exists): web is not even made yet.
    await until("chealth_db_1", (c) => c.State.Health?.Status === "starting" && c.State.Health.Log.length >= 1, "db's first probe");
    assert.equal((await docker(["ps", "-a", "-q", "--filter", "name=chealth_web"])).stdout, "", "web waits for db to be healthy");
    await docker(["exec", "chealth_db_1", "touch", "/tmp/ready"]);
    await up;
    const db = await inspect("chealth_db_1");
    const web = await inspect("chealth_web_1");
    assert.equal(db.State.Health?.Status, "healthy");
    const firstHealthy = db.State.Health!.Log.find((l) => l.ExitCode === 0)!;
    assert.ok(Date.parse(web.State.StartedAt) >= Date.parse(firstHealthy.End), `web started ${web.State.StartedAt}, db was healthy at ${firstHealthy.End}`);
    const ps = (await compose(["ps"])).stdout;
    assert.match(ps, /chealth_db_1 .* Up \(healthy\)/, ps);
    assert.match(ps, /chealth_web_1 .* Up/, ps);
  } finally {
    await compose(["down", "-v"], true);
    await rm(project, { recursive: true, force: true });
  }
});

test("restart policies: on-failure:2 restarts a failing container twice (RestartCount), always restarts an exit but not after docker stop", { timeout: 300_000 }, async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await docker(["run", "-d", "--name", "rs-fail", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 1"]);
  // rs-always exits 0 the first time (the file in its writable layer stays), then runs.
  await docker(["run", "-d", "--name", "rs-always", "--restart", "always", "busybox", "sh", "-c", "[ -e /ran ] && exec sleep 300; touch /ran; exit 0"]);
  try {
    const failed = await until("rs-fail", (c) => c.RestartCount === 2 && c.State.Status === "exited", "two restarts, then exited");
    assert.equal(failed.State.ExitCode, 1);
    assert.match((await docker(["logs", "rs-fail"])).stdout, /^run\n/);
    const dies = (await docker(["events", "--since", since, "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "container=rs-fail", "--filter", "event=die", "--format", "{{.Action}}"]))
      .stdout;
    assert.equal(dies, "die\ndie\ndie\n");

    const always = await until("rs-always", (c) => c.RestartCount === 1 && c.State.Running && !c.State.Restarting, "one restart");
    assert.equal(always.State.Status, "running");
    await docker(["stop", "-t", "0", "rs-always"]);
    const stopped = await inspect("rs-always");
    assert.deepEqual([stopped.State.Status, stopped.RestartCount], ["exited", 1]);
    // Past the next back-off (200 ms) it is still exited: a stop by hand is not restarted.
    await docker(["run", "--rm", "busybox", "true"]);
    const later = await inspect("rs-always");
    assert.deepEqual([later.State.Status, later.RestartCount], ["exited", 1]);
    // A start by hand counts from zero again.
    await docker(["start", "rs-always"]);
    assert.equal((await inspect("rs-always")).RestartCount, 0);
    // Policies dockerd refuses are refused, and nothing is made.
    const unknown = await docker(["create", "--name", "rs-bad", "--restart", "sometimes", "busybox", "true"], true);
    assert.match(unknown.stderr, /invalid restart policy: unknown policy 'sometimes'/);
    const counted = await docker(["create", "--name", "rs-bad", "--restart", "always:3", "busybox", "true"], true);
    assert.match(counted.stderr, /maximum retry count can only be used with 'on-failure'/);
    assert.equal((await docker(["ps", "-aq", "--filter", "name=rs-bad"])).stdout, "");
  } finally {
    await docker(["rm", "-f", "rs-fail", "rs-always"], true);
  }
});
