import { spawnSync } from "node:child_process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, readFile, readlink, stat } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { resolveDebianMirror } from "../../../../../src/core/boxes/debian/apt-mirror";
import { BUSYBOX_APPLETS, builtinImageName, busyboxApplets, createBusyboxImage, ensureBuiltinImage } from "../../../../../src/core/engine/images/builtin-images";
// The default registry's domain is configuration (HANGAR_DEFAULT_REGISTRY); a reserved test domain stands in for it.
const DEFAULT_DOMAIN = "registry.test";
process.env.HANGAR_DEFAULT_REGISTRY = DEFAULT_DOMAIN;
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { applyLayer } from "../../../../../src/core/engine/images/layer-apply";
import { withTempDir } from "./tar-fixtures";
import { dockerHistory, shaped } from "./docker-shapes";

test("which names are built in", () => {
  for (const name of ["busybox", "busybox:latest", "library/busybox", `${DEFAULT_DOMAIN}/library/busybox:latest`]) assert.equal(builtinImageName(name), "busybox", name);
  for (const name of ["scratch", "busybox:1.36", "alpine", "me/busybox", "busybox@sha256:" + "0".repeat(64), "Not Valid"]) assert.equal(builtinImageName(name), undefined, name);
  for (const name of ["debian:bookworm", "debian:12", "library/debian:bookworm", `${DEFAULT_DOMAIN}/library/debian:12`]) assert.equal(builtinImageName(name), "bookworm", name);
  for (const name of ["debian:bookworm-slim", "debian:12-slim"]) assert.equal(builtinImageName(name), "bookworm-slim", name);
  // Another suite, no tag (latest is another release), a digest or another repository are not made from bookworm's packages.
  for (const name of ["debian", "debian:latest", "debian:trixie-slim", "debian:11", "me/debian:bookworm", "debian@sha256:" + "0".repeat(64)]) assert.equal(builtinImageName(name), undefined, name);
});

test("scratch and other names are not built-in images (no network needed to say so)", async () => {
  await withTempDir(async (dir) => {
    const store = await ImageStore.open(path.join(dir, "images"));
    const env = { HANGAR_DEBIAN_MIRROR: "not a url" }; // would fail if anything tried to read the mirror
    assert.equal(await ensureBuiltinImage(store, "scratch", { hangarHome: dir, env }), undefined);
    assert.equal(await ensureBuiltinImage(store, "alpine:3", { hangarHome: dir, env }), undefined);
  });
});

test("the busybox image from a given binary: deterministic, Docker-shaped, with applet links", async () => {
  await withTempDir(async (dir) => {
    const binary = Buffer.from("\x7fELF pretend busybox");
    const input = { binary, version: "1:1.35.0-4", mtime: 1_700_000_000 };
    const a = await shaped(createBusyboxImage(await ImageStore.open(path.join(dir, "a")), input));
    const b = await shaped(createBusyboxImage(await ImageStore.open(path.join(dir, "b")), input));
    assert.equal(a.Id, b.Id, "same package, same image ID");
    assert.deepEqual(a.RepoTags, ["busybox:latest"]);
    assert.deepEqual(a.Config, { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] });
    assert.equal(a.Architecture, "386");
    assert.equal(a.Os, "linux");
    assert.equal(a.Created, "2023-11-14T22:13:20Z");
    const store = await ImageStore.open(path.join(dir, "a"));
    assert.deepEqual(
      (await dockerHistory(store, "busybox")).map((h) => h.CreatedBy),
      ["busybox-static 1:1.35.0-4 from Debian, all its applets, adduser/addgroup, Docker's busybox accounts"],
    );
    const other = await shaped(createBusyboxImage(await ImageStore.open(path.join(dir, "c")), { ...input, binary: Buffer.from("another build") }));
    assert.notEqual(other.Id, a.Id);

    const root = path.join(dir, "rootfs");
    await applyLayer((await store.layerFiles("busybox"))[0], root);
    assert.deepEqual(await readFile(path.join(root, "bin/busybox")), binary);
    assert.equal((await stat(path.join(root, "bin/busybox"))).mode & 0o777, 0o755);
    for (const applet of BUSYBOX_APPLETS) assert.equal(await readlink(path.join(root, "bin", applet)), "busybox", applet);
    // The account tools Debian's build leaves out: one script, linked under each name.
    for (const tool of ["adduser", "addgroup", "deluser", "delgroup"]) assert.equal(await readlink(path.join(root, "bin", tool)), ".hangar-accounts", tool);
    assert.match(await readFile(path.join(root, "bin/.hangar-accounts"), "utf8"), /^#!\/bin\/sh\n/);
    assert.equal((await stat(path.join(root, "tmp"))).mode & 0o7777, 0o1777);
    assert.equal((await stat(path.join(root, "root"))).mode & 0o777, 0o700);
    for (const d of ["dev", "proc", "sys", "home", "var", "etc"]) assert.ok((await lstat(path.join(root, d))).isDirectory(), d);
    // Docker's busybox image's accounts: root in wheel (its `id` shows groups=0(root),10(wheel)), nobody last.
    const passwd = await readFile(path.join(root, "etc/passwd"), "utf8");
    assert.match(passwd, /^root:x:0:0:root:\/root:\/bin\/sh\ndaemon:x:1:1:/);
    assert.match(passwd, /\nnobody:x:65534:65534:nobody:\/home:\/bin\/false\n$/);
    const group = await readFile(path.join(root, "etc/group"), "utf8");
    assert.match(group, /^root:x:0:\n/);
    assert.match(group, /\nwheel:x:10:root\n/);
    assert.match(group, /\nnobody:x:65534:\n$/);
  });
});

test("a busybox binary's applets are read from its own table of names; without one, the fixed list", () => {
  const names = ["[", "[[", "acpid", "addgroup", "ash", ...Array.from({ length: 60 }, (_, i) => `t${String(i).padStart(2, "0")}`), "zcat"];
  const binary = Buffer.concat([Buffer.from("\x7fELF code\0usage text\0"), Buffer.from(names.join("\0") + "\0"), Buffer.from("\x01\x02 more data\0Zzz\0")]);
  assert.deepEqual(busyboxApplets(binary), names);
  assert.deepEqual(busyboxApplets(Buffer.from("\x7fELF no table")), [...BUSYBOX_APPLETS]);
  // A short run that merely looks like a table is not taken for one.
  assert.deepEqual(busyboxApplets(Buffer.from("x\0[\0[[\0ls\0")), [...BUSYBOX_APPLETS]);
});

/**
 * The real thing, from the Debian mirror this machine is configured with.
 * It runs only where the system tests' shared download cache already holds
 * the index and busybox-static (then it takes a few seconds: the Release
 * file is fetched, the rest is cached) and the mirror answers; otherwise
 * it is skipped rather than downloading ~10 MB in a unit test.
 */
test("busybox:latest from Debian's busybox-static i386 package", async (t) => {
  const home = process.env.HANGAR_TEST_DEBIAN_HOME ?? path.join(os.tmpdir(), "hangar-test-default-box");
  if (!(await stat(path.join(home, "cache", "debian", "sha256")).catch(() => undefined))) return t.skip(`no Debian download cache in ${home} (the system tests make it)`);
  let mirror: string;
  try {
    mirror = resolveDebianMirror().url;
    const res = await fetch(`${mirror}/dists/bookworm/Release`, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    if (!res.ok) return t.skip(`the Debian mirror answers ${res.status}`);
  } catch (err) {
    return t.skip(`no reachable Debian mirror: ${(err as Error).message}`);
  }
  await withTempDir(async (dir) => {
    const store = await ImageStore.open(path.join(dir, "images"));
    const image = await shaped(ensureBuiltinImage(store, "busybox", { hangarHome: home, signal: AbortSignal.timeout(120_000) }));
    assert.ok(image);
    assert.deepEqual(image.RepoTags, ["busybox:latest"]);
    assert.match((await dockerHistory(store, "busybox"))[0].CreatedBy, /^busybox-static \S+ from Debian, all its applets, adduser\/addgroup, Docker's busybox accounts$/);
    const root = path.join(dir, "rootfs");
    await applyLayer((await store.layerFiles("busybox:latest"))[0], root);
    const elf = await readFile(path.join(root, "bin/busybox"));
    assert.equal(elf.subarray(0, 4).toString("latin1"), "\x7fELF");
    assert.equal(elf[4], 1, "32-bit");
    assert.equal(elf.readUInt16LE(18), 3, "i386");
    // Every applet the binary has (Debian's has some 270; the fixed list has 70), each linked in /bin.
    const applets = busyboxApplets(elf);
    assert.ok(applets.length > 200, `${applets.length} applets`);
    for (const a of ["nslookup", "xz", "ipcalc", "adjtimex"]) assert.ok(applets.includes(a), a);
    for (const a of applets.filter((x) => x !== "busybox")) assert.equal(await readlink(path.join(root, "bin", a)), "busybox", a);
    // Again: the store has it, so no network and the same image.
    const again = await shaped(ensureBuiltinImage(store, `${DEFAULT_DOMAIN}/library/busybox:latest`, { hangarHome: dir, env: { HANGAR_DEBIAN_MIRROR: "not a url" } }));
    assert.equal(again?.Id, image.Id);
  });
});

test("shellcheck finds nothing in the busybox image's account tools script", { skip: spawnSync("shellcheck", ["--version"]).status !== 0 && "shellcheck is not installed" }, () => {
  const r = spawnSync("shellcheck", ["-s", "sh", path.resolve(__dirname, "../../../../../src/core/engine/images/busybox-adduser.sh")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
