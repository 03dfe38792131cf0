// Talks to a real Debian mirror, found as the box builder finds it
// (HANGAR_DEBIAN_MIRROR, else this machine's apt configuration), so it needs
// the network to that mirror. Downloads the bookworm i386 index (~9 MB) and
// two small packages into a temporary cache.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveDebianMirror } from "../../../src/core/boxes/debian/apt-mirror";
import { readDeb, type DebEntry } from "../../../src/core/boxes/debian/deb-archive";
import { DebianRepository } from "../../../src/core/boxes/debian/debian-repository";
import { DownloadCache } from "../../../src/core/boxes/download-cache";

let cacheDir: string;
let repo: DebianRepository;

before(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-debian-"));
  repo = new DebianRepository(resolveDebianMirror().url, new DownloadCache(cacheDir));
  await repo.loadIndex({ signal: AbortSignal.timeout(300_000) });
});

after(async () => {
  await fs.rm(cacheDir, { recursive: true, force: true });
});

async function entriesOf(packageName: string, wanted: (p: string) => boolean): Promise<DebEntry[]> {
  const file = await repo.download(repo.require(packageName), undefined, AbortSignal.timeout(300_000));
  const deb = await readDeb(file);
  assert.equal(deb.control.get("Package"), packageName);
  const out: DebEntry[] = [];
  for await (const e of deb.entries({ filter: wanted })) out.push(e);
  return out;
}

test("the real bookworm i386 index has what the default box is built from", () => {
  for (const name of ["busybox-static", "dropbear-bin", "seabios"]) {
    const pkg = repo.find(name);
    assert.ok(pkg, `${name} is in the index`);
    assert.match(pkg.Filename, /^pool\/main\//);
    assert.match(pkg.SHA256, /^[0-9a-f]{64}$/);
    assert.ok(pkg.Size > 0);
  }
  assert.equal(repo.find("busybox-static")?.Architecture, "i386");
  const kernel = repo.findLatestKernel();
  assert.match(kernel.Package, /^linux-image-\d+\.\d+\.\d+-\d+-686-unsigned$/);
  assert.equal(kernel.Package, `linux-image-${kernel.kernelRelease}-unsigned`);
  assert.equal(kernel.Architecture, "i386");
});

test("dropbear-bin's dependencies resolve to its i386 libraries", () => {
  const closure = repo.resolveDependencies(["dropbear-bin"]);
  const names = closure.map((p) => p.Package);
  for (const lib of ["libc6", "libcrypt1", "libtomcrypt1", "libtommath1", "libgmp10", "zlib1g"]) assert.ok(names.includes(lib), `${lib} in ${names.join(", ")}`);
  assert.equal(new Set(names).size, names.length, "each package once");
  for (const p of closure) assert.match(p.Architecture, /^(i386|all)$/, p.Package);
});

test("busybox-static's .deb, downloaded and verified, holds an i386 ELF bin/busybox", async () => {
  const [busybox] = await entriesOf("busybox-static", (p) => p === "bin/busybox");
  assert.equal(busybox?.type, "file");
  const elf = busybox.content!;
  assert.ok(elf.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), "ELF magic");
  assert.equal(elf[4], 1, "ELFCLASS32");
  assert.equal(elf.readUInt16LE(18), 3, "e_machine EM_386");
  assert.equal(busybox.mode & 0o111, 0o111, "executable");
});

test("seabios's .deb holds the firmware the emulator boots", async () => {
  const files = await entriesOf("seabios", (p) => /\/(bios\.bin|vgabios-stdvga\.bin)$/.test(p));
  const names = files.map((e) => path.posix.basename(e.path));
  assert.ok(names.includes("bios.bin") && names.includes("vgabios-stdvga.bin"), names.join(", "));
  for (const f of files) {
    assert.equal(f.type, "file", f.path);
    assert.ok((f.content?.length ?? 0) > 30_000, f.path);
  }
});
