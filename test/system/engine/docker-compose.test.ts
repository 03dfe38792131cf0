// A real Compose client (Debian's docker-compose 1.29; Compose v2 speaks the
// same Engine API) against the embedded engine: projects, their labels,
// networks with aliases, named volumes, depends_on and restart policies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { runCommand, type Run } from "../fixtures/command-run";
import { engineForThisFile } from "../fixtures/engine-under-test";

const { engine, docker } = engineForThisFile();

test("Compose (Debian's docker-compose) brings up a two-service project: one container per service, found by its labels, logs, down -v", { timeout: 300_000 }, async () => {
  const project = await mkdtemp(path.join(os.tmpdir(), "hangar-compose-"));
  await writeFile(
    path.join(project, "docker-compose.yml"),
    [
      "services:",
      "  web:",
      "    image: busybox",
      '    command: sh -c "echo web up; exec sleep 300"',
      "  worker:",
      "    image: busybox",
      '    command: sh -c "echo worker up; exec sleep 300"',
      "",
    ].join("\n"),
  );
  const compose = (args: string[]): Promise<Run> =>
    runCommand("docker-compose", ["-p", "ctest", ...args], { env: engine().dockerEnv(), cwd: project, allowFail: false, timeoutMs: 240_000, maxBuffer: 16 * 1024 * 1024 });
  try {
    await compose(["up", "-d"]);
    // Compose numbers a service's containers from the ones its labels find: each service's is its first.
    const names = (await docker(["ps", "--filter", "label=com.docker.compose.project=ctest", "--format", "{{.Names}}"])).stdout.split("\n").filter(Boolean).sort();
    assert.deepEqual(names, ["ctest_web_1", "ctest_worker_1"]);
    const web = await docker(["ps", "--filter", "label=com.docker.compose.project=ctest", "--filter", "label=com.docker.compose.service=web", "--format", "{{.Names}}"]);
    assert.equal(web.stdout, "ctest_web_1\n");
    const ps = (await compose(["ps"])).stdout;
    assert.equal(ps.match(/ctest_web_1/g)?.length, 1, ps);
    assert.equal(ps.match(/ctest_worker_1/g)?.length, 1, ps);
    let logs = "";
    for (let i = 0; i < 50 && !(logs.includes("web up") && logs.includes("worker up")); i++) {
      logs = (await compose(["logs", "--no-color"])).stdout;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(logs, /web_1 +\| web up/);
    assert.match(logs, /worker_1 +\| worker up/);
    await compose(["down", "-v"]);
    assert.equal((await docker(["ps", "-a", "--filter", "label=com.docker.compose.project=ctest", "-q"])).stdout, "");
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});

test(
  "Compose: a project network where services find each other by service name and alias, a named volume that outlives down (and goes with down -v), depends_on order, a restart policy",
  { timeout: 400_000 },
  async () => {
    const project = await mkdtemp(path.join(os.tmpdir(), "hangar-compose-net-"));
    await writeFile(
      path.join(project, "docker-compose.yml"),
      `version: "3.7"
services:
  db:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && cat /data/seed 2>/dev/null > /www/index.html; echo from-db >> /www/index.html; echo from-db > /data/seed; exec httpd -f -p 80 -h /www"]
    volumes: ["dbdata:/data"]
    networks:
      back:
        aliases: ["database"]
    restart: unless-stopped
  web:
    image: busybox
    depends_on: ["db"]
    command: ["sh", "-c", "for i in $$(seq 100); do wget -q -O - http://database/ && wget -q -O /dev/null http://db/ && echo by-name && break; sleep 0.2; done; exec sleep 600"]
    networks: ["back"]
volumes:
  dbdata: {}
networks:
  back: {}
`,
    );
    const compose = (args: string[]): Promise<Run> =>
      runCommand("docker-compose", ["-p", "cnet", ...args], { env: engine().dockerEnv(), cwd: project, allowFail: false, timeoutMs: 240_000, maxBuffer: 16 * 1024 * 1024 });
    const webLogs = async (): Promise<string> => {
      let logs = "";
      for (let i = 0; i < 100 && !/by-name/.test(logs); i++) {
        logs = (await compose(["logs", "--no-color", "web"])).stdout;
        if (!/by-name/.test(logs)) await new Promise((r) => setTimeout(r, 300));
      }
      return logs;
    };
    try {
      const up = await compose(["up", "-d"]);
      // depends_on: db is created and started before web.
      const order = [...(up.stdout + up.stderr).matchAll(/(?:Creating|Starting) (cnet_\w+_1)/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(order)], ["cnet_db_1", "cnet_web_1"], up.stdout + up.stderr);
      assert.match(await webLogs(), /from-db\n[\s\S]*by-name/);
      const net = JSON.parse((await docker(["network", "inspect", "cnet_back"])).stdout)[0];
      assert.equal(net.Labels["com.docker.compose.network"], "back");
      const db = JSON.parse((await docker(["inspect", "cnet_db_1"])).stdout)[0];
      assert.equal(db.HostConfig.RestartPolicy.Name, "unless-stopped");
      assert.ok(db.NetworkSettings.Networks.cnet_back.Aliases.includes("database"), JSON.stringify(db.NetworkSettings.Networks.cnet_back));
      assert.equal(JSON.parse((await docker(["volume", "inspect", "cnet_dbdata"])).stdout)[0].Labels["com.docker.compose.volume"], "dbdata");
      // down keeps the named volume: the next up's db serves what the first one wrote there.
      await compose(["down"]);
      assert.equal((await docker(["network", "ls", "-q", "--filter", "name=cnet_back"])).stdout, "");
      await compose(["up", "-d"]);
      assert.match(await webLogs(), /from-db\n[^\n]*from-db\n[\s\S]*by-name/);
      await compose(["down", "-v"]);
      assert.equal((await docker(["volume", "ls", "-q", "--filter", "name=cnet_dbdata"])).stdout, "");
    } finally {
      await runCommand("docker-compose", ["-p", "cnet", "down", "-v"], { env: engine().dockerEnv(), cwd: project, allowFail: true, timeoutMs: 120_000, maxBuffer: 1024 * 1024 }).catch(() => undefined);
      await rm(project, { recursive: true, force: true });
    }
  },
);
