// Hangar's private state (issue 14, hole 7): HANGAR_HOME is created 0700 and
// every socket Hangar listens on is 0600 whatever the umask — checked under
// umask 000, with the real machine daemon and the real Docker API server —
// and a home another user owns (or others may write) is refused, by every
// entry point, with a message that says what to do.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../../src/cli/main";
import { startEngine } from "../../../../src/core/api/engine-control";
import { serveEngine } from "../../../../src/core/api/engine-process";
import { DaemonClient } from "../../../../src/core/daemon/daemon-client";
import { daemonSocketPath, MachineDaemon } from "../../../../src/core/daemon/machine-daemon";
import { ensureHangarHome, ForeignHangarHomeError, UnsafeHangarHomeError } from "../../../../src/core/util/hangar-home";
import { listenPrivate, SocketInUseError } from "../../../../src/core/util/private-socket";
import { request, startTestEngine } from "../api/api-fixtures";

const repo = path.resolve(__dirname, "..", "..", "..", "..");
const NOBODY = 65534;
let tmp = "";
let savedUmask = 0;

const mode = (p: string): number => lstatSync(p).mode & 0o7777;
const octal = (m: number): string => m.toString(8).padStart(4, "0");

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-private-"));
  // The worst umask: anything Hangar does not restrict itself comes out world-writable.
  savedUmask = process.umask(0);
});
after(async () => {
  process.umask(savedUmask);
  await rm(tmp, { recursive: true, force: true });
});

/** A home owned by `nobody`, as another local user would leave it. */
function foreignHome(name: string): string {
  const home = path.join(tmp, name);
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, NOBODY, NOBODY);
  return home;
}

test("a missing HANGAR_HOME is created 0700 under umask 000 (its parents as the umask says)", () => {
  assert.equal(process.umask(), 0, "the test runs under umask 000");
  const home = path.join(tmp, "new-parent", "home");
  assert.equal(ensureHangarHome(home), home);
  assert.equal(octal(mode(home)), "0700");
  assert.ok(statSync(path.join(tmp, "new-parent")).isDirectory());
});

test("an existing 0700 home is accepted and left exactly as it is", () => {
  const home = path.join(tmp, "existing");
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(path.join(home, "machine-index.json"), "{}\n");
  const before = statSync(home);
  ensureHangarHome(home);
  const after = statSync(home);
  assert.equal(octal(after.mode & 0o7777), "0700");
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual(readdirSync(home), ["machine-index.json"]);
});

test("a home owned by another user is refused, saying whose it is and what to do", () => {
  const home = foreignHome("theirs");
  assert.throws(
    () => ensureHangarHome(home),
    (err: unknown) => {
      assert.ok(err instanceof ForeignHangarHomeError);
      assert.match(err.message, new RegExp(`${home.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} belongs to another user \\(uid ${NOBODY}; you are uid 0\\)`));
      assert.match(err.message, /Point HANGAR_HOME \(or the hangar\.home setting\) at a folder of your own/);
      return true;
    },
  );
  // Nothing was created or changed in it.
  assert.deepEqual(readdirSync(home), []);
  assert.equal(statSync(home).uid, NOBODY);
});

test("a home others may write into is refused with the chmod that fixes it", () => {
  const home = path.join(tmp, "open");
  mkdirSync(home);
  chmodSync(home, 0o777);
  assert.throws(
    () => ensureHangarHome(home),
    (err: unknown) => err instanceof UnsafeHangarHomeError && /every user \(mode 0777\)/.test(err.message) && err.message.includes(`chmod 700 ${home}`),
  );
  chmodSync(home, 0o770);
  assert.throws(
    () => ensureHangarHome(home),
    (err: unknown) => err instanceof UnsafeHangarHomeError && /its group/.test(err.message),
  );
});

test("every entry point refuses another user's home: CLI verbs, daemon client and server, engine start and serve", async () => {
  const home = foreignHome("entry-points");
  const out: string[] = [];
  const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), env: { ...process.env, HANGAR_HOME: home }, cwd: tmp };
  assert.equal(await main(["global-status"], io), 1);
  assert.match(out.join("\n"), /^hangar: .* belongs to another user/);
  assert.equal(await main(["engine", "status"], io), 1);
  await assert.rejects(DaemonClient.connect(home, { start: false }), ForeignHangarHomeError);
  await assert.rejects(MachineDaemon.listen(home), ForeignHangarHomeError);
  await assert.rejects(startEngine(home), ForeignHangarHomeError);
  await assert.rejects(serveEngine(home), ForeignHangarHomeError);
  assert.deepEqual(readdirSync(home), [], "nothing was written into it");
});

test("the daemon and engine processes refuse another user's home and say why", () => {
  const home = foreignHome("processes");
  for (const entry of ["src/cli/daemon.ts", "src/engine-main.ts"]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(repo, entry), home], { cwd: repo, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1, `${entry}: ${r.stderr}`);
    assert.match(r.stderr, /belongs to another user/, entry);
  }
  assert.deepEqual(readdirSync(home), []);
});

test("the machine daemon creates its home 0700 and its socket 0600 under umask 000; clients still connect", async () => {
  const home = path.join(tmp, "daemon-home");
  const daemon = await MachineDaemon.listen(home);
  try {
    assert.equal(octal(mode(home)), "0700");
    const socket = daemonSocketPath(home);
    assert.ok(lstatSync(socket).isSocket());
    assert.equal(octal(mode(socket)), "0600");
    assert.deepEqual(readdirSync(home), ["hangard.sock"], "no staging folder is left behind");
    const client = await DaemonClient.connect(home, { start: false });
    try {
      assert.deepEqual(await client.call("list", {}), [], "this daemon answers, running nothing");
    } finally {
      client.close();
    }
  } finally {
    await daemon.close();
  }
  assert.deepEqual(readdirSync(home), [], "closing removes the socket");
});

test("the Docker API server's socket is 0600 under umask 000", async () => {
  const t = await startTestEngine();
  try {
    assert.equal(octal(mode(t.socket)), "0600");
    assert.equal((await request(t.socket, "GET", "/_ping")).status, 200);
  } finally {
    await t.close();
  }
});

test("listenPrivate: 0600 in a 0777 folder, never a staging folder left, a taken path refused, close removes only its own socket", async () => {
  const dir = path.join(tmp, "open-sockets");
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const socket = path.join(dir, "docker.sock");
  const first = net.createServer();
  await listenPrivate(first, socket);
  assert.equal(octal(mode(socket)), "0600");
  assert.deepEqual(readdirSync(dir), ["docker.sock"]);
  const second = net.createServer();
  await assert.rejects(listenPrivate(second, socket), SocketInUseError);
  assert.equal(second.listening, false);
  assert.deepEqual(readdirSync(dir), ["docker.sock"]);
  await new Promise<void>((resolve) => first.close(() => resolve()));
  assert.deepEqual(readdirSync(dir), []);
});
