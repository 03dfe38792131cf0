// Containers through the real docker CLI: Hangar's engine starts its engine
// machine (a real guest from the default box) on the first `docker run`, and
// run/ps/logs/inspect/stop/kill/rm/wait/rename/prune behave as Docker's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../fixtures/command-run";
import { engineForThisFile } from "../fixtures/engine-under-test";

const { docker } = engineForThisFile();

test("docker run --rm: output, exit status, and the container is gone afterwards (busybox pulled from the built-in images)", { timeout: 300_000 }, async () => {
  const hello = await docker(["run", "--rm", "busybox", "echo", "hello from a container"]);
  assert.equal(hello.stdout, "hello from a container\n");
  const failing = await docker(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5"], true);
  assert.equal(failing.code, 5);
  assert.equal(failing.stdout, "out\n");
  assert.match(failing.stderr, /^err$/m);
  assert.equal((await docker(["ps", "-aq"])).stdout, "", "--rm containers are removed");
  const env = await docker(["run", "--rm", "-e", "GREETING=hi", "-w", "/srv", "--entrypoint", "sh", "busybox", "-c", "pwd; echo $GREETING; hostname | wc -c"]);
  assert.equal(env.stdout, "/srv\nhi\n13\n", "workdir, env, entrypoint; the hostname is the 12-character short ID");
  // Users as dockerd sets them: the gid among the supplementary groups (a real dockerd shows groups=1000 here), root's from /etc/group.
  assert.equal((await docker(["run", "--rm", "-u", "1000:1000", "busybox", "id"])).stdout, "uid=1000 gid=1000 groups=1000\n");
  assert.equal((await docker(["run", "--rm", "-u", "nobody", "busybox", "id"])).stdout, "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n");
  assert.equal((await docker(["run", "--rm", "busybox", "id"])).stdout, "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
  const groupAdd = await docker(["run", "--rm", "--group-add", "5", "busybox", "id"], true);
  assert.notEqual(groupAdd.code, 0);
  assert.match(groupAdd.stderr, /does not support --group-add yet/);
});

test("docker run -d --name, ps, logs (stdout and stderr apart), inspect, stop, rm", { timeout: 300_000 }, async () => {
  const id = (await docker(["run", "-d", "--name", "web", "busybox", "sh", "-c", "echo started; echo warning >&2; exec sleep 300"])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await docker(["ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} web Up `, "m"));
  let logs: Run = { code: 0, stdout: "", stderr: "" };
  // stdout and stderr reach the engine on two streams of the machine's session: either can come first.
  for (let i = 0; i < 50 && !(logs.stdout.includes("started") && logs.stderr.includes("warning")); i++) {
    logs = await docker(["logs", "web"]);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(logs.stdout, "started\n");
  assert.equal(logs.stderr, "warning\n");
  const inspect = JSON.parse((await docker(["inspect", "web"])).stdout)[0];
  assert.equal(inspect.State.Running, true);
  assert.equal(inspect.Name, "/web");
  assert.equal(inspect.Config.Hostname, id.slice(0, 12));
  assert.deepEqual([inspect.Path, ...inspect.Args], ["sh", "-c", "echo started; echo warning >&2; exec sleep 300"]);
  // Removing a running container needs -f; so does removing its image.
  const refused = await docker(["rm", "web"], true);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /cannot remove a running container/);
  const rmi = await docker(["rmi", "busybox"], true);
  assert.notEqual(rmi.code, 0);
  assert.match(rmi.stderr, /conflict|being used|in use/i);
  // sleep as PID 1 ignores TERM, as in Docker: stop kills it after the timeout.
  await docker(["stop", "-t", "1", "web"]);
  assert.match((await docker(["ps", "-a", "--format", "{{.Names}} {{.Status}}"])).stdout, /^web Exited \(137\)/m);
  assert.equal((await docker(["wait", "web"])).stdout.trim(), "137");
  await docker(["rename", "web", "old-web"]);
  await docker(["rm", "old-web"]);
  assert.equal((await docker(["ps", "-aq"])).stdout, "");
});

test("kill, rm -f of a running container, a duplicate name, --memory enforced (OOMKilled), container prune", { timeout: 300_000 }, async () => {
  await docker(["run", "-d", "--name", "sleeper", "busybox", "sleep", "300"]);
  const dup = await docker(["run", "-d", "--name", "sleeper", "busybox", "true"], true);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /already in use/);
  await docker(["kill", "sleeper"]);
  assert.equal((await docker(["wait", "sleeper"])).stdout.trim(), "137");
  await docker(["run", "-d", "--name", "forced", "busybox", "sleep", "300"]);
  await docker(["rm", "-f", "forced"]);
  assert.doesNotMatch((await docker(["ps", "-a", "--format", "{{.Names}}"])).stdout, /forced/);

  const oom = await docker(["run", "--name", "hog", "--memory", "16m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=40M", "count=1"], true);
  assert.equal(oom.code, 137, oom.stderr);
  assert.equal((await docker(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"])).stdout.trim(), "true 137");
  const small = await docker(["run", "--rm", "--memory", "16m", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1"], true);
  assert.equal(small.code, 0, small.stderr);

  const pruned = await docker(["container", "prune", "-f"]);
  assert.match(pruned.stdout, /Deleted Containers/);
  assert.equal((await docker(["ps", "-aq"])).stdout, "");
  const info = await docker(["info", "--format", "{{.Containers}} {{.KernelVersion}}"]);
  assert.match(info.stdout.trim(), /^0 \d+\.\d+\.\d+-\d+-686$/, "info counts containers and reports the engine machine's kernel");
});

test("ps filters as Docker's: every label filter must hold (Compose finds its containers so), ancestor, before and since", { timeout: 120_000 }, async () => {
  const made: string[] = [];
  for (const [name, labels] of [
    ["both", ["x=1", "y=2"]],
    ["only-x", ["x=1"]],
    ["only-y", ["y=2"]],
  ] as const) {
    await docker(["create", "--name", name, ...labels.flatMap((l) => ["--label", l]), "busybox", "true"]);
    made.push(name);
  }
  const names = async (...filters: string[]): Promise<string> =>
    (await docker(["ps", "-a", ...filters.flatMap((f) => ["--filter", f]), "--format", "{{.Names}}"])).stdout.split("\n").filter(Boolean).sort().join(" ");
  try {
    assert.equal(await names("label=x=1", "label=y=2"), "both");
    assert.equal(await names("label=x=1"), "both only-x");
    assert.equal(await names("label=y"), "both only-y");
    assert.equal(await names("label=x=2"), "");
    assert.equal(await names("ancestor=busybox", "label=x"), "both only-x");
    assert.equal(await names("ancestor=debian:bookworm"), "");
    assert.equal(await names("before=only-y"), "both only-x");
    assert.equal(await names("since=both"), "only-x only-y");
  } finally {
    await docker(["rm", ...made]);
  }
});

test("docker diff lists added, changed and deleted paths; pause freezes every process and unpause resumes them", { timeout: 180_000 }, async () => {
  await docker(["run", "-d", "--name", "busy", "busybox", "sh", "-c", "echo x > /etc/new.conf; rm /bin/ls; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done"]);
  const ticks = async (): Promise<number> => ((await docker(["logs", "busy"])).stdout.match(/tick-/g) ?? []).length;
  for (let i = 0; i < 50 && (await ticks()) < 3; i++) await new Promise((r) => setTimeout(r, 200));
  const diff = (await docker(["diff", "busy"])).stdout.trim().split("\n");
  for (const line of ["C /bin", "D /bin/ls", "C /etc", "A /etc/new.conf"]) assert.ok(diff.includes(line), `docker diff shows ${line}: ${diff.join(", ")}`);
  await docker(["pause", "busy"]);
  assert.match((await docker(["ps", "--format", "{{.Names}} {{.Status}}"])).stdout, /^busy Up .*\(Paused\)$/m);
  const frozenAt = await ticks();
  // Nothing to wait for here: no output is the point. A window of seven ticks' time.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await ticks(), frozenAt, "no output while paused");
  await docker(["unpause", "busy"]);
  // Until a new tick is logged (or 30 s have passed; the assertion judges).
  for (let i = 0; i < 150 && (await ticks()) <= frozenAt; i++) await new Promise((r) => setTimeout(r, 200));
  assert.ok((await ticks()) > frozenAt, "output resumes after unpause");
  await docker(["rm", "-f", "busy"]);
});

test("an image that is neither here nor built in is looked for in its registry, and the failure is said plainly", { timeout: 120_000 }, async () => {
  const unknown = await docker(["run", "--rm", "nosuchimage:1"], true);
  assert.notEqual(unknown.code, 0);
  // No registry is reachable from the test machine: the default one the CLI names cannot be resolved.
  assert.match(unknown.stderr, /Unable to find image 'nosuchimage:1' locally[\s\S]*cannot be reached/);
});

test("docker build (classic builder): a multi-stage Dockerfile with RUN, COPY --from, ARG, ENV, WORKDIR, ENTRYPOINT/CMD; the cache; a failing step names its line", { timeout: 300_000 }, async () => {
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-build-context-"));
  try {
    await writeFile(path.join(context, "hello.txt"), "hello from the context\n");
    await writeFile(path.join(context, "secret.key"), "never copied\n");
    await writeFile(path.join(context, ".dockerignore"), "*.key\n");
    await writeFile(
      path.join(context, "Dockerfile"),
      [
        "FROM busybox AS build",
        "ARG GREETING=hi",
        "WORKDIR /src",
        "COPY . .",
        "RUN tr a-z A-Z < hello.txt > /out.txt && ls /src > /listing.txt && rm /bin/ls",
        // The deletion is a whiteout in RUN's layer: later steps of the stage do not see /bin/ls.
        "RUN test ! -e /bin/ls",
        "ENV GREETING=$GREETING",
        'RUN echo "$GREETING from RUN" > /greeting.txt',
        "",
        "FROM busybox",
        "COPY --from=build /out.txt /greeting.txt /listing.txt /app/",
        "WORKDIR /app",
        'ENTRYPOINT ["sh", "-c"]',
        'CMD ["cat out.txt greeting.txt listing.txt; test -e /bin/ls && echo ls-kept"]',
        "",
      ].join("\n"),
    );
    const built = await docker(["build", "--build-arg", "GREETING=howdy", "-t", "app:1", context]);
    assert.match(built.stdout, /^Step 1\/13 : FROM busybox AS build$/m);
    assert.match(built.stdout, /^Successfully tagged app:1$/m);
    const ran = await docker(["run", "--rm", "app:1"]);
    assert.equal(ran.stdout, "HELLO FROM THE CONTEXT\nhowdy from RUN\nDockerfile\nhello.txt\nls-kept\n", "RUN output, build args, .dockerignore, and the final stage's own /bin/ls");
    const history = await docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"]);
    assert.match(history.stdout, /CMD \["cat out\.txt/);
    const again = await docker(["build", "--build-arg", "GREETING=howdy", "-t", "app:1", context]);
    assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 11, "every step but the two FROMs comes from the cache");
    await writeFile(path.join(context, "Dockerfile.fail"), "FROM busybox\nRUN echo before && exit 4\n");
    const failed = await docker(["build", "-f", path.join(context, "Dockerfile.fail"), "-t", "bad", context], true);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout + failed.stderr, /Dockerfile\.fail:2: The command '\/bin\/sh -c echo before && exit 4' returned a non-zero code: 4/);
    assert.match(failed.stdout, /^before$/m, "the step's output is streamed");
    assert.equal((await docker(["images", "-q", "bad"])).stdout, "", "a failed build tags nothing");
    await docker(["rmi", "app:1"]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
});

/** Builds a Dockerfile in a context of its own as `tag`, runs the image's CMD, removes the image: the run's stdout. */
async function buildAndRun(tag: string, dockerfile: string): Promise<string> {
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-build-"));
  try {
    await writeFile(path.join(context, "Dockerfile"), dockerfile);
    await docker(["build", "-t", tag, context]);
    const out = (await docker(["run", "--rm", tag])).stdout;
    await docker(["rmi", tag]);
    return out;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

test("docker build: a RUN that removes a folder and makes it again leaves only the new contents (opaque folders), as Docker does", { timeout: 300_000 }, async () => {
  // /d removed and made again (opaque), /e/gone deleted on its own (a whiteout), /e/kept left alone.
  const dockerfile = `FROM busybox
RUN mkdir -p /d/sub /e && echo old > /d/old && echo old > /d/sub/old && echo kept > /e/kept && echo gone > /e/gone
RUN rm -rf /d && mkdir -p /d/sub && echo new > /d/new && rm /e/gone
CMD ["sh", "-c", "find /d /e | sort"]
`;
  assert.equal(await buildAndRun("opaque:1", dockerfile), "/d\n/d/new\n/d/sub\n/e\n/e/kept\n");
});

test("docker build: after VOLUME, what a RUN step changes inside the volume is not kept in the image, as Docker does", { timeout: 300_000 }, async () => {
  const dockerfile = `FROM busybox
RUN mkdir /data && echo before > /data/kept
VOLUME /data
RUN echo after > /data/new && echo changed > /data/kept && echo outside > /outside
CMD ["sh", "-c", "ls /data; cat /data/kept /outside"]
`;
  assert.equal(await buildAndRun("volume-run:1", dockerfile), "kept\nbefore\noutside\n");
});

test("the built-in busybox has Docker's busybox tools: every applet of the binary, and adduser/addgroup/deluser/delgroup with busybox's options", { timeout: 300_000 }, async () => {
  const dockerfile = `FROM busybox
RUN adduser -D app && addgroup -S ops && addgroup app ops && adduser -D -H -u 2001 -G ops svc && adduser -D gone && deluser gone
USER app
WORKDIR /home/app
RUN touch mine
CMD ["sh", "-c", "id -un; id -u; id -g; grep -e ^app: -e ^svc: -e ^gone: /etc/passwd; grep -e ^ops: -e ^app: /etc/group; stat -c '%u:%g %A' /home/app/mine; test -d /home/svc || echo svc has no home; ipcalc -n 10.1.2.3/8; adduser -D app 2>&1 || echo refused"]
`;
  const out = await buildAndRun("accounts:1", dockerfile);
  const [name, uid, gid, appLine, svcLine, ...rest] = out.trimEnd().split("\n");
  assert.deepEqual([name, uid, gid], ["app", "1000", "1000"], out);
  assert.equal(appLine, "app:x:1000:1000:Linux User,,,:/home/app:/bin/sh");
  assert.match(svcLine!, /^svc:x:2001:(\d+):Linux User,,,:\/home\/svc:\/bin\/sh$/);
  const opsGid = /^svc:x:2001:(\d+):/.exec(svcLine!)![1]!;
  assert.ok(Number(opsGid) >= 100 && Number(opsGid) < 1000, `a system group: ${opsGid}`);
  assert.deepEqual(rest, ["app:x:1000:", `ops:x:${opsGid}:app`, "1000:1000 -rw-r--r--", "svc has no home", "NETWORK=10.0.0.0", "adduser: user 'app' in use", "refused"], out);
});
