// Interactive containers through the real docker CLI: exec (-e, -w, -u,
// -i, -t, -d, exit codes), run -it and attach driven through a real pty
// (util-linux `script`), top, cp both ways, non-root users (-u and an
// image's USER from a Dockerfile build).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { Run } from "../fixtures/command-run";
import { EngineUnderTest } from "../fixtures/engine-under-test";

/** A busybox shell's prompt, as it ends on a terminal (it then asks for the cursor position: ESC [6n), after `before`. */
function prompt(before = ""): RegExp {
  return new RegExp(`${before}[#$] (${String.fromCharCode(27)}\\[6n)?$`, "s");
}
const PROMPT = prompt();

let engine: EngineUnderTest;
let work = "";

function docker(args: string[], allowFail = false, input?: string): Promise<Run> {
  return engine.docker(args, allowFail, input);
}

/**
 * A docker command on a real pty (`script`), typed into like a person:
 * each step waits until the output so far matches, then types its text.
 * Resolves with the whole output and the exit status.
 */
function onPty(command: string, steps: Array<{ waitFor: RegExp; type: string }>, ttySize?: { rows: number; cols: number }): Promise<{ code: number; output: string }> {
  const sized = ttySize ? `stty rows ${ttySize.rows} cols ${ttySize.cols}; ${command}` : command;
  const child = spawn("script", ["-qefc", sized, "/dev/null"], { env: engine.dockerEnv(), cwd: engine.home });
  let output = "";
  let next = 0;
  const advance = (): void => {
    while (next < steps.length && steps[next].waitFor.test(output)) child.stdin.write(steps[next++].type);
  };
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
    advance();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      if (process.env.DEBUG_PTY) console.log(JSON.stringify(output));
      resolve({ code: code ?? -1, output });
    });
  });
}

before(async () => {
  engine = await EngineUnderTest.start();
  work = await mkdtemp(path.join(os.tmpdir(), "hangar-exec-work-"));
});

after(async () => {
  await engine?.stop();
  await rm(work, { recursive: true, force: true });
});

test("docker exec: output apart, exit codes, -e, -w, -u (uid, uid:gid, a name, an unknown name), -i stdin, -d; a stopped container is a 409", { timeout: 300_000 }, async () => {
  await docker(["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
  const both = await docker(["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"], true);
  assert.equal(both.code, 3);
  assert.equal(both.stdout, "out\n");
  assert.equal(both.stderr, "err\n");
  const shaped = await docker(["exec", "-e", "GREETING=hi there", "-w", "/tmp", "box", "sh", "-c", 'echo "$GREETING"; pwd; id -u; echo $HOME']);
  assert.equal(shaped.stdout, "hi there\n/tmp\n0\n/root\n");
  assert.equal((await docker(["exec", "-u", "1000", "box", "sh", "-c", "id -u; id -g; echo $HOME"])).stdout, "1000\n0\n/\n", "a uid not in /etc/passwd: gid 0, HOME /");
  assert.equal((await docker(["exec", "-u", "1000:1000", "box", "id"])).stdout, "uid=1000 gid=1000 groups=1000\n", "the gid is a supplementary group too, as dockerd sets it");
  assert.equal((await docker(["exec", "-u", "nobody", "box", "sh", "-c", "id -u; id -g"])).stdout, "65534\n65534\n");
  const unknown = await docker(["exec", "-u", "nosuchuser", "box", "id"], true);
  assert.equal(unknown.code, 126);
  assert.match(unknown.stderr, /unable to find user nosuchuser: no matching entries in passwd file/);
  // A file made by the uid belongs to it: the drop is real, not just what id says.
  assert.equal((await docker(["exec", "-u", "1000", "box", "sh", "-c", "touch /tmp/mine && stat -c %u /tmp/mine"])).stdout, "1000\n");
  const piped = await docker(["exec", "-i", "box", "sh", "-c", "tr a-z A-Z; echo done"], false, "hello stdin\n");
  assert.equal(piped.stdout, "HELLO STDIN\ndone\n");
  assert.equal((await docker(["exec", "box", "cat"])).stdout, "", "without -i, stdin is empty");
  await docker(["exec", "-d", "box", "sh", "-c", "sleep 1; echo detached > /tmp/d"]);
  let seen = "";
  for (let i = 0; i < 40 && seen !== "detached\n"; i++) {
    await new Promise((r) => setTimeout(r, 250));
    seen = (await docker(["exec", "box", "cat", "/tmp/d"], true)).stdout;
  }
  assert.equal(seen, "detached\n");
  const missing = await docker(["exec", "box", "/no/such/program"], true);
  assert.notEqual(missing.code, 0);
  await docker(["stop", "-t", "0", "box"]);
  const stopped = await docker(["exec", "box", "true"], true);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /is not running/);
  await docker(["rm", "box"]);
});

test("docker exec -it through a pty: the client's size, TERM, the exit code", { timeout: 300_000 }, async () => {
  await docker(["run", "-d", "--name", "ttybox", "busybox", "sleep", "600"]);
  const r = await onPty(
    "docker exec -it ttybox sh",
    [
      { waitFor: PROMPT, type: "tty; stty size; echo TERM=$TERM\n" },
      { waitFor: prompt("TERM=\\S+\\r\\n.*"), type: "exit 5\n" },
    ],
    { rows: 33, cols: 101 },
  );
  assert.equal(r.code, 5, r.output);
  assert.match(r.output, /^33 101\r$/m, "the pty has the client's size");
  assert.match(r.output, /^TERM=xterm\r$/m);
  await docker(["rm", "-f", "ttybox"]);
});

test("docker exec -it's terminal has a name at /dev/pts in the container, and the container cannot write there", { timeout: 300_000 }, async () => {
  await docker(["run", "-d", "--name", "ttyname", "busybox", "sleep", "600"]);
  try {
    const r = await onPty("docker exec -it ttyname sh", [
      { waitFor: PROMPT, type: "tty\n" },
      { waitFor: prompt("tty\\r\\n.*"), type: "exit\n" },
    ]);
    assert.match(r.output, /^\/dev\/pts\/\d+\r$/m);
    assert.doesNotMatch(r.output, /job control turned off/, "the shell has its terminal as controlling terminal");
    // The terminals' folder is the engine's: a root process in the container can plant nothing there (a symlink
    // named like the next pty would otherwise lead the engine's bind elsewhere).
    const plant = await docker(["exec", "ttyname", "sh", "-c", "ln -s /etc/passwd /dev/pts/9 || touch /dev/pts/9 || echo refused"], true);
    assert.match(plant.stdout + plant.stderr, /Read-only file system/);
    assert.match(plant.stdout, /refused/);
    assert.equal((await docker(["exec", "ttyname", "ls", "/dev/pts"])).stdout, "", "the exec's pty is gone with it");
  } finally {
    await docker(["rm", "-f", "ttyname"]);
  }
});

test("docker run -it through a pty: type commands, see the output, exit 3 is the exit code; attach to a running -it container", { timeout: 300_000 }, async () => {
  const r = await onPty("docker run -it --rm busybox sh", [
    { waitFor: PROMPT, type: "echo typed-$((6*7)); tty\n" },
    { waitFor: prompt("typed-42\\r\\n.*"), type: "exit 3\n" },
  ]);
  assert.equal(r.code, 3, r.output);
  assert.match(r.output, /^typed-42\r$/m);
  assert.match(r.output, /^\/dev\/pts\/\d+\r$/m);
  assert.doesNotMatch(r.output, /job control turned off/, "the shell has its terminal as controlling terminal");

  await docker(["run", "-dit", "--name", "attached", "busybox", "sh"]);
  const a = await onPty("docker attach attached", [
    // The shell's prompt was written before the attach: the first output seen is the echo of what is typed.
    { waitFor: /^/, type: "echo attached-$((1+2))\n" },
    { waitFor: /attached-3\r\n/, type: "exit 4\n" },
  ]);
  assert.equal(a.code, 4, a.output);
  assert.match(a.output, /^attached-3\r$/m);
  assert.equal((await docker(["inspect", "-f", "{{.State.ExitCode}}", "attached"])).stdout.trim(), "4");
  assert.match((await docker(["logs", "attached"])).stdout, /attached-3\r\n/, "a TTY's log is its raw output");
  await docker(["rm", "attached"]);
  // -i without -t: stdin piped through attach, output multiplexed.
  const piped = await docker(["run", "-i", "--rm", "busybox", "sh", "-c", "read line; echo got:$line; exit 6"], true, "a line\n");
  assert.equal(piped.code, 6);
  assert.equal(piped.stdout, "got:a line\n");
});

test("docker top lists the container's processes (run and exec) as ps -ef; a stopped container is refused", { timeout: 300_000 }, async () => {
  await docker(["run", "-d", "--name", "topbox", "busybox", "sh", "-c", "sleep 501 & exec sleep 502"]);
  await docker(["exec", "-d", "-u", "1000", "topbox", "sleep", "503"]);
  // Until the three are running (a moment ago some were still being set up: the exec's process is the entry
  // helper, its command line ending in "sleep 503" — first the helper script's, then "nsenter -S 1000 -- sleep 503"
  // as it takes the user — until it execs sleep).
  const running = (out: string, cmd: string): boolean => out.split("\n").some((l) => l.trim().endsWith(` ${cmd}`) && !/\.hangar-|nsenter /.test(l));
  let top: Run = { code: 0, stdout: "", stderr: "" };
  for (let i = 0; i < 40 && !(top.stdout.trim().split("\n").length === 4 && running(top.stdout, "sleep 501") && running(top.stdout, "sleep 503")); i++) {
    if (i) await new Promise((r) => setTimeout(r, 250));
    top = await docker(["top", "topbox"]);
  }
  const lines = top.stdout
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));
  assert.deepEqual(lines[0], ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
  const rows = lines.slice(1).map((f) => ({ uid: f[0], pid: f[1], ppid: f[2], cmd: f.slice(7).join(" ") }));
  assert.deepEqual(rows.map((r) => r.cmd).sort(), ["sleep 501", "sleep 502", "sleep 503"], top.stdout);
  const pid1 = rows.find((r) => r.cmd === "sleep 502")!;
  assert.equal(rows.find((r) => r.cmd === "sleep 501")!.ppid, pid1.pid, "the background sleep is PID 1's child");
  assert.equal(rows.find((r) => r.cmd === "sleep 503")!.uid, "1000");
  await docker(["stop", "-t", "0", "topbox"]);
  const stopped = await docker(["top", "topbox"], true);
  assert.notEqual(stopped.code, 0);
  assert.match(stopped.stderr, /is not running/);
  await docker(["rm", "topbox"]);
});

test("docker cp both ways, files and folders, running and stopped; a path that escapes stays in the container; a missing path is Docker's 404", { timeout: 300_000 }, async () => {
  await writeFile(path.join(work, "note.txt"), "a note\n");
  await mkdir(path.join(work, "tree", "sub"), { recursive: true });
  await writeFile(path.join(work, "tree", "sub", "deep.txt"), "deep\n");
  await docker(["run", "-d", "--name", "cpbox", "busybox", "sleep", "600"]);
  await docker(["cp", path.join(work, "note.txt"), "cpbox:/tmp/"]);
  await docker(["cp", path.join(work, "tree"), "cpbox:/tmp/tree2"]);
  assert.equal((await docker(["exec", "cpbox", "sh", "-c", "cat /tmp/note.txt /tmp/tree2/sub/deep.txt; stat -c %u:%g /tmp/note.txt"])).stdout, "a note\ndeep\n0:0\n");
  await docker(["exec", "cpbox", "sh", "-c", "mkdir -p /srv/out/in && echo from-container > /srv/out/in/f && ln -s ../../../../../../../etc /tmp/up"]);
  await docker(["cp", "cpbox:/srv/out", path.join(work, "out")]);
  assert.equal(await readFile(path.join(work, "out", "in", "f"), "utf8"), "from-container\n");
  // /tmp/up climbs past the root: resolved in the container, it is the container's /etc (Docker's busybox accounts, no vagrant), never the engine machine's.
  await docker(["cp", "cpbox:/tmp/up/passwd", path.join(work, "passwd")]);
  assert.deepEqual(
    (await readFile(path.join(work, "passwd"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => l.split(":")[0]),
    ["root", "daemon", "bin", "sys", "sync", "mail", "www-data", "operator", "nobody"],
  );
  await docker(["cp", "cpbox:../../../etc/group", path.join(work, "group")]);
  assert.match(await readFile(path.join(work, "group"), "utf8"), /^root:x:0:/);
  const missing = await docker(["cp", "cpbox:/no/such/file", path.join(work, "x")], true);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Could not find the file \/no\/such\/file in container cpbox/);
  const intoMissing = await docker(["cp", path.join(work, "note.txt"), "cpbox:/no/such/dir/"], true);
  assert.notEqual(intoMissing.code, 0);
  // Stopped: the writable layer is still there, both ways.
  await docker(["stop", "-t", "0", "cpbox"]);
  await docker(["cp", path.join(work, "note.txt"), "cpbox:/etc/note-while-stopped"]);
  await docker(["cp", "cpbox:/tmp/note.txt", path.join(work, "back.txt")]);
  assert.equal(await readFile(path.join(work, "back.txt"), "utf8"), "a note\n");
  await docker(["start", "cpbox"]);
  assert.equal((await docker(["exec", "cpbox", "cat", "/etc/note-while-stopped"])).stdout, "a note\n");
  assert.deepEqual((await readdir(path.join(work, "out"))).sort(), ["in"]);
  await docker(["rm", "-f", "cpbox"]);
});

test("run -u 1000 and an image's USER (a Dockerfile with RUN steps as that user)", { timeout: 300_000 }, async () => {
  assert.equal((await docker(["run", "--rm", "-u", "1000", "busybox", "id", "-u"])).stdout, "1000\n");
  const context = path.join(work, "ctx");
  await mkdir(context, { recursive: true });
  await writeFile(
    path.join(context, "Dockerfile"),
    [
      "FROM busybox",
      "WORKDIR /home/app",
      "RUN echo app:x:1234:1234::/home/app:/bin/sh >> /etc/passwd && echo app:x:1234: >> /etc/group && chown app:app /home/app",
      "USER app",
      "RUN id -un > whoami && touch made-by-app",
      'CMD ["sh", "-c", "id -u; cat whoami; stat -c %U made-by-app; echo $HOME"]',
      "",
    ].join("\n"),
  );
  await docker(["build", "-t", "userimg", context]);
  assert.equal((await docker(["run", "--rm", "userimg"])).stdout, "1234\napp\napp\n/home/app\n");
  assert.equal((await docker(["run", "--rm", "-u", "root", "userimg", "id", "-u"])).stdout, "0\n", "-u overrides the image's USER");
});
