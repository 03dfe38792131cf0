import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { BoxStore } from "../../../../src/core/boxes/box-store";
import { ensureBuiltinBox, isBuiltinBox, shippedDefaultBox } from "../../../../src/core/boxes/default-box/builtin-box";

// The shipped copy as scripts/package.mjs writes it into dist/box (small stand-ins for the kernel and initrd).
async function shippedBundle(manifest: object = { name: "hangar/debian-busybox", version: "1.6.50" }): Promise<string> {
  const bundle = await mkdtemp(path.join(os.tmpdir(), "hangar-bundle-"));
  const box = path.join(bundle, "box");
  await mkdir(box);
  // (no bootstrap_key: the package carries no private key)
  for (const f of ["vmlinuz", "initrd.img", "bios.bin", "vgabios-stdvga.bin"]) await writeFile(path.join(box, f), `${f} bytes`);
  await writeFile(
    path.join(box, "metadata.json"),
    JSON.stringify({
      provider: "embedded",
      format: 1,
      kernel: "vmlinuz",
      initrd: "initrd.img",
      bios: "bios.bin",
      vgaBios: "vgabios-stdvga.bin",
      bootstrapKey: "bootstrap_key",
      cmdline: "console=ttyS0 hangar.key=cGFja2FnZWQ= quiet",
    }),
  );
  await writeFile(path.join(box, "box.json"), JSON.stringify(manifest));
  return bundle;
}

test("only hangar/debian-busybox is built in", () => {
  assert.equal(isBuiltinBox("hangar/debian-busybox"), true);
  assert.equal(isBuiltinBox("debian/bookworm64"), false);
});

test("a missing built-in box is added from the shipped copy, whole, once, with a bootstrap key of its own", async () => {
  const bundle = await shippedBundle();
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-"));
  try {
    const messages: string[] = [];
    const added = await ensureBuiltinBox("hangar/debian-busybox", { hangarHome: home, bundleDir: bundle, mirror: "http://127.0.0.1:9/debian", onProgress: (_f, m) => messages.push(m) });
    assert.deepEqual(added, { how: "shipped", version: "1.6.50" });
    assert.match(messages[0], /adding the copy Hangar ships \(1\.6\.50\)/);
    const [entry, ...more] = await new BoxStore(home).list();
    assert.deepEqual(more, []);
    assert.deepEqual([entry.name, entry.version, entry.provider, entry.problem], ["hangar/debian-busybox", "1.6.50", "embedded", undefined]);
    assert.deepEqual((await readdir(entry.path)).sort(), ["bios.bin", "bootstrap_key", "initrd.img", "metadata.json", "vgabios-stdvga.bin", "vmlinuz"]);
    assert.equal(await readFile(path.join(entry.path, "vmlinuz"), "utf8"), "vmlinuz bytes");
    // The key pair is made here: the private half beside the box (0600), the public half on the kernel's command line.
    assert.equal((await stat(path.join(entry.path, "bootstrap_key"))).mode & 0o777, 0o600);
    assert.match(await readFile(path.join(entry.path, "bootstrap_key"), "utf8"), /BEGIN OPENSSH PRIVATE KEY/);
    const cmdline = (JSON.parse(await readFile(path.join(entry.path, "metadata.json"), "utf8")) as { cmdline: string }).cmdline;
    const [, pub] = /^console=ttyS0 hangar\.key=(\S+) quiet$/.exec(cmdline) ?? [];
    assert.ok(pub, cmdline);
    assert.match(Buffer.from(pub, "base64").toString(), /^ssh-ed25519 \S+ hangar box bootstrap key$/);
    // No temporary folder is left beside the boxes.
    assert.deepEqual(await readdir(path.join(home, "boxes")), ["hangar-VAGRANTSLASH-debian-busybox"]);
    // Installed now: nothing to do.
    assert.equal(await ensureBuiltinBox("hangar/debian-busybox", { hangarHome: home, bundleDir: bundle }), undefined);
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(bundle, { recursive: true, force: true });
  }
});

test("a damaged copy already installed is left for up to report, not replaced unasked", async () => {
  const bundle = await shippedBundle();
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-"));
  try {
    const damaged = path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox", "1.6.50", "embedded");
    await mkdir(damaged, { recursive: true });
    await writeFile(path.join(damaged, "metadata.json"), "{ not json");
    assert.equal(await ensureBuiltinBox("hangar/debian-busybox", { hangarHome: home, bundleDir: bundle }), undefined);
    assert.equal(await readFile(path.join(damaged, "metadata.json"), "utf8"), "{ not json");
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(bundle, { recursive: true, force: true });
  }
});

test("a shipped manifest naming another box is refused, and nothing is added", async () => {
  const bundle = await shippedBundle({ name: "evil/box", version: "../../x" });
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-"));
  try {
    await assert.rejects(ensureBuiltinBox("hangar/debian-busybox", { hangarHome: home, bundleDir: bundle }), /does not describe hangar\/debian-busybox.*Reinstall Hangar/);
    assert.deepEqual(await new BoxStore(home).list(), []);
    await assert.rejects(ensureBuiltinBox("debian/bookworm64", { hangarHome: home, bundleDir: bundle }), /not a built-in box/);
  } finally {
    await rm(home, { recursive: true, force: true });
    await rm(bundle, { recursive: true, force: true });
  }
});

test("without a shipped copy (a checkout) there is none to find", async () => {
  const bundle = await mkdtemp(path.join(os.tmpdir(), "hangar-bundle-"));
  try {
    assert.equal(await shippedDefaultBox(bundle), undefined);
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
});
