import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { DownloadCache, DownloadDigestMismatchError } from "../../../../../src/core/boxes/download-cache";
import { DebianIndexError, DebianPackageNotFoundError, DebianRepository, parseRelations } from "../../../../../src/core/boxes/debian/debian-repository";

const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

const DEB_BYTES = Buffer.from("pretend this is busybox-static_1.35.0-4+b3_i386.deb");

function paragraph(fields: Record<string, string>): string {
  const defaults = { Architecture: "i386", Filename: `pool/main/x/${fields.Package}_${fields.Version}_i386.deb`, Size: "100", SHA256: sha256(`${fields.Package} ${fields.Version}`) };
  return Object.entries({ ...defaults, ...fields })
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

/** A Packages index in the shape the mirror serves (fields in Debian's order, Description and all). */
const PACKAGES =
  [
    paragraph({
      Package: "busybox-static",
      Version: "1:1.35.0-4+b3",
      "Installed-Size": "2000",
      Depends: "",
      Description: "Standalone rescue shell with tons of builtin utilities",
      "Description-md5": "0".repeat(32),
      Filename: "pool/main/b/busybox/busybox-static_1.35.0-4+b3_i386.deb",
      Size: String(DEB_BYTES.length),
      SHA256: sha256(DEB_BYTES),
    }),
    paragraph({ Package: "busybox-static", Version: "1.36.1-9" }), // lower: no epoch
    paragraph({ Package: "busybox-static", Version: "1:1.35.0~rc1-1" }),
    paragraph({
      Package: "dropbear-bin",
      Version: "2022.83-1+deb12u2",
      Depends: "libc6 (>= 2.34), libcrypt1 (>= 1:4.1.0), libgmp10 (>= 2:6.2.1+dfsg1), libtomcrypt1 (>= 1.18.1), libtommath1 (>= 1.2.0), zlib1g (>= 1:1.1.4)",
      Recommends: "openssh-client",
    }),
    paragraph({ Package: "libc6", Version: "2.36-9+deb12u10", Depends: "libgcc-s1", Breaks: "hurd (<< 1:0.9.git20220301-2)" }),
    paragraph({ Package: "libgcc-s1", Version: "12.2.0-14+deb12u1", Depends: "gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)", Provides: "libgcc1 (= 1:12.2.0-14+deb12u1)" }),
    paragraph({ Package: "gcc-12-base", Version: "12.2.0-14+deb12u1", "Multi-Arch": "same" }),
    paragraph({ Package: "libcrypt1", Version: "1:4.4.33-2", "Pre-Depends": "libc6 (>= 2.36)", Depends: "" }),
    paragraph({ Package: "libgmp10", Version: "2:6.2.1+dfsg1-1.1", Depends: "libc6 (>= 2.14)" }),
    paragraph({ Package: "libtomcrypt1", Version: "1.18.2+dfsg-7+b1", Depends: "libc6 (>= 2.34), libtommath1 (>= 1.2.0)" }),
    paragraph({ Package: "libtommath1", Version: "1.2.0-6+b1", Depends: "libc6 (>= 2.4)" }),
    paragraph({ Package: "zlib1g", Version: "1:1.2.13.dfsg-1", "Pre-Depends": "libc6 (>= 2.14)", Provides: "libz1" }),
    paragraph({ Package: "needs-awk", Version: "1.0", Depends: "gawk | mawk, perl:any (>= 5) [i386] <!nocheck>" }),
    paragraph({ Package: "mawk", Version: "1.3.4.20200120-3.1", Provides: "awk", Priority: "required" }),
    paragraph({ Package: "original-awk", Version: "2012-12-20-12", Provides: "awk", Priority: "optional" }),
    paragraph({ Package: "init-helpers", Version: "1.65.2", Depends: "usrmerge | usr-is-merged", Priority: "required", Essential: "yes" }),
    paragraph({ Package: "usrmerge", Version: "35", Depends: "perl" }),
    paragraph({ Package: "usr-is-merged", Version: "35" }),
    paragraph({ Package: "needs-virtual", Version: "1.0", Depends: "awk, libz1" }),
    paragraph({ Package: "perl", Version: "5.36.0-7+deb12u2", Depends: "perl-base" }),
    paragraph({ Package: "perl-base", Version: "5.36.0-7+deb12u2", "Pre-Depends": "perl (>= 5)" }), // a cycle
    paragraph({ Package: "needs-missing", Version: "1.0", Depends: "libc6, no-such-package | nor-this-one" }),
    paragraph({ Package: "linux-image-6.1.0-35-686-unsigned", Version: "6.1.137-1", Depends: "kmod, linux-base (>= 4.3~)" }),
    paragraph({ Package: "linux-image-6.1.0-37-686-unsigned", Version: "6.1.140-1" }),
    paragraph({ Package: "linux-image-6.1.0-9-686-unsigned", Version: "6.1.27-1" }),
    paragraph({ Package: "linux-image-6.1.0-38-686-pae-unsigned", Version: "6.1.147-1" }),
    paragraph({ Package: "linux-image-6.1.0-38-rt-686-pae-unsigned", Version: "6.1.147-1" }),
    paragraph({ Package: "linux-image-6.1.0-38-686-dbg", Version: "6.1.147-1" }),
    paragraph({ Package: "linux-image-686", Version: "6.1.147-1" }),
    paragraph({ Package: "seabios", Version: "1.16.2-1", Architecture: "all" }),
    "Package: broken-no-sha\nVersion: 1.0\nFilename: pool/main/b/broken.deb\nSize: 1",
  ].join("\n\n") + "\n";

interface Mirror {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** A fixture mirror on 127.0.0.1: `files` maps URL paths (under the mirror root) to bodies. */
async function serveMirror(files: Record<string, Buffer | string>): Promise<Mirror> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent((req.url ?? "").replace(/^\/debian\//, ""));
    requests.push(p);
    const body = files[p];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { "content-length": Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function release(listed: Record<string, Buffer>, extra = ""): string {
  const lines = Object.entries(listed).map(([p, data]) => ` ${sha256(data)} ${String(data.length).padStart(8)} ${p}`);
  // Release lists the uncompressed Packages too, which mirrors do not serve; it must be ignored.
  lines.push(` ${sha256(PACKAGES)} ${Buffer.byteLength(PACKAGES)} main/binary-i386/Packages`);
  return `Origin: Debian\nSuite: stable\nCodename: bookworm\nArchitectures: all amd64 i386\nComponents: main contrib\n${extra}MD5Sum:\n ${"0".repeat(32)} 1 main/binary-i386/Release\nSHA256:\n${lines.join("\n")}\n`;
}

const XZ = execFileSync("xz", ["-c"], { input: PACKAGES }); // test-only compressor; Hangar only decompresses
const GZ = gzipSync(PACKAGES);

async function withRepo(files: Record<string, Buffer | string>, fn: (repo: DebianRepository, mirror: Mirror, cacheDir: string) => Promise<void>): Promise<void> {
  const mirror = await serveMirror(files);
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-repo-"));
  try {
    await fn(new DebianRepository(mirror.url, new DownloadCache(cacheDir)), mirror, cacheDir);
  } finally {
    await mirror.close();
    await fs.rm(cacheDir, { recursive: true, force: true });
  }
}

const STANDARD = {
  "dists/bookworm/Release": release({ "main/binary-i386/Packages.xz": XZ, "main/binary-i386/Packages.gz": GZ }),
  "dists/bookworm/main/binary-i386/Packages.xz": XZ,
  "dists/bookworm/main/binary-i386/Packages.gz": GZ,
  "pool/main/b/busybox/busybox-static_1.35.0-4+b3_i386.deb": DEB_BYTES,
};

let loaded: DebianRepository | undefined;
/** One repository loaded from the fixture mirror, for the tests that only query it. */
async function repository(): Promise<DebianRepository> {
  if (!loaded) {
    await withRepo(STANDARD, async (repo) => {
      await repo.loadIndex();
      loaded = repo;
    });
  }
  return loaded!;
}

test("loadIndex reads Release, then the verified Packages.xz it lists", async () => {
  await withRepo(STANDARD, async (repo, mirror) => {
    const progress: number[] = [];
    await repo.loadIndex({ onProgress: (received) => progress.push(received) });
    assert.deepEqual(mirror.requests, ["dists/bookworm/Release", "dists/bookworm/main/binary-i386/Packages.xz"]);
    assert.equal(progress.at(-1), XZ.length);
    const bb = repo.find("busybox-static");
    assert.deepEqual(bb, {
      Package: "busybox-static",
      Version: "1:1.35.0-4+b3",
      Architecture: "i386",
      Filename: "pool/main/b/busybox/busybox-static_1.35.0-4+b3_i386.deb",
      SHA256: sha256(DEB_BYTES),
      Size: DEB_BYTES.length,
      Depends: "",
      "Pre-Depends": "",
      Provides: "",
      Priority: "",
      Essential: "",
    });
    assert.equal(repo.find("broken-no-sha"), undefined, "a paragraph without SHA256 cannot be downloaded, so it is not offered");
    assert.equal(repo.find("awk"), undefined, "find looks at real packages only");
  });
});

test("without Packages.xz in the Release file, Packages.gz is used", async () => {
  await withRepo({ ...STANDARD, "dists/bookworm/Release": release({ "main/binary-i386/Packages.gz": GZ }) }, async (repo, mirror) => {
    await repo.loadIndex();
    assert.equal(mirror.requests[1], "dists/bookworm/main/binary-i386/Packages.gz");
    assert.equal(repo.find("seabios")?.Version, "1.16.2-1");
  });
});

test("with Acquire-By-Hash the index is fetched by its digest", async () => {
  const byHash = `dists/bookworm/main/binary-i386/by-hash/SHA256/${sha256(XZ)}`;
  await withRepo({ "dists/bookworm/Release": release({ "main/binary-i386/Packages.xz": XZ }, "Acquire-By-Hash: yes\n"), [byHash]: XZ }, async (repo, mirror) => {
    await repo.loadIndex();
    assert.equal(mirror.requests[1], byHash);
    assert.ok(repo.find("libc6"));
  });
});

test("a Packages file that does not match the Release file's SHA256 is refused", async () => {
  const tampered = execFileSync("xz", ["-c"], { input: PACKAGES.replace("seabios", "seabioz") });
  await withRepo({ ...STANDARD, "dists/bookworm/main/binary-i386/Packages.xz": tampered }, async (repo) => {
    await assert.rejects(repo.loadIndex(), DownloadDigestMismatchError);
    assert.throws(() => repo.find("seabios"), /not loaded/);
  });
});

test("a mirror without i386, or without the suite, gets an error that says what to check", async () => {
  await withRepo({ "dists/bookworm/Release": release({ "main/binary-amd64/Packages.xz": XZ }) }, async (repo) => {
    await assert.rejects(
      repo.loadIndex(),
      (err: unknown) => err instanceof DebianIndexError && /main\/binary-i386\/Packages\.xz/.test((err as Error).message) && /i386 architecture/.test((err as Error).message),
    );
  });
  await withRepo({}, async (repo) => {
    await assert.rejects(repo.loadIndex(), (err: unknown) => err instanceof DebianIndexError && /HTTP 404/.test((err as Error).message));
  });
  await withRepo({ "dists/bookworm/Release": "<html>captive portal</html>" }, async (repo) => {
    await assert.rejects(repo.loadIndex(), /not a Debian Release file/);
  });
});

test("find picks the highest version (epoch beats a higher upstream, ~rc sorts first)", async () => {
  const repo = await repository();
  assert.equal(repo.find("busybox-static")?.Version, "1:1.35.0-4+b3");
  assert.equal(repo.find("no-such-package"), undefined);
  assert.throws(() => repo.require("no-such-package"), DebianPackageNotFoundError);
});

test("resolveDependencies: transitive Depends and Pre-Depends, each package once", async () => {
  const repo = await repository();
  const names = repo.resolveDependencies(["dropbear-bin"]).map((p) => p.Package);
  assert.deepEqual(names, ["dropbear-bin", "libc6", "libgcc-s1", "gcc-12-base", "libcrypt1", "libgmp10", "libtomcrypt1", "libtommath1", "zlib1g"]);
  assert.deepEqual(
    repo.resolveDependencies(["perl"]).map((p) => p.Package),
    ["perl", "perl-base"],
    "a dependency cycle ends",
  );
});

test("resolveDependencies: first available alternative, virtual packages through Provides", async () => {
  const repo = await repository();
  assert.deepEqual(
    repo.resolveDependencies(["needs-awk"]).map((p) => p.Package),
    ["needs-awk", "mawk", "perl", "perl-base"],
    "gawk is absent, so mawk; perl:any is perl",
  );
  assert.deepEqual(
    repo.resolveDependencies(["needs-virtual"]).map((p) => p.Package),
    ["needs-virtual", "mawk", "zlib1g", "libc6", "libgcc-s1", "gcc-12-base"],
  );
  assert.deepEqual(repo.resolveDependencies(["libz1"]).map((p) => p.Package)[0], "zlib1g", "a virtual name asked for directly");
});

test("resolveDependencies: an alternative or a provider asked for meets a dependency, as apt chooses (minbase: mawk for awk, usr-is-merged)", async () => {
  const repo = await repository();
  assert.deepEqual(
    repo
      .withPriority("required")
      .map((p) => p.Package)
      .sort(),
    ["init-helpers", "mawk"],
  );
  assert.equal(repo.find("init-helpers")?.Essential, "yes");
  assert.deepEqual(
    repo.resolveDependencies(["init-helpers"]).map((p) => p.Package),
    ["init-helpers", "usrmerge", "perl", "perl-base"],
    "nothing else asked: the first alternative",
  );
  assert.deepEqual(
    repo.resolveDependencies(["init-helpers", "usr-is-merged"]).map((p) => p.Package),
    ["init-helpers", "usr-is-merged"],
    "the alternative asked for, not usrmerge and perl",
  );
  assert.deepEqual(
    repo
      .resolveDependencies(["needs-virtual", "original-awk"])
      .map((p) => p.Package)
      .slice(0, 2),
    ["needs-virtual", "original-awk"],
    "awk from the provider asked for, not mawk",
  );
  assert.ok(!repo.resolveDependencies(["needs-virtual", "original-awk"]).some((p) => p.Package === "mawk"));
});

test("resolveDependencies: a missing dependency names who needs it; exclude skips names", async () => {
  const repo = await repository();
  assert.throws(
    () => repo.resolveDependencies(["needs-missing"]),
    (err: unknown) => err instanceof DebianPackageNotFoundError && err.packageName === "no-such-package" && /needed by needs-missing/.test(err.message),
  );
  assert.deepEqual(
    repo.resolveDependencies(["dropbear-bin"], { exclude: (n) => n === "libc6" }).map((p) => p.Package),
    ["dropbear-bin", "libcrypt1", "libgmp10", "libtomcrypt1", "libtommath1", "zlib1g"],
  );
  assert.deepEqual(
    repo.resolveDependencies(["needs-missing"], { exclude: (n) => n === "nor-this-one" }).map((p) => p.Package),
    ["needs-missing", "libc6", "libgcc-s1", "gcc-12-base"],
  );
});

test("findLatestKernel: the newest 686-unsigned image, not pae, rt, dbg or the metapackage", async () => {
  const repo = await repository();
  const kernel = repo.findLatestKernel();
  assert.equal(kernel.Package, "linux-image-6.1.0-37-686-unsigned");
  assert.equal(kernel.Version, "6.1.140-1");
  assert.equal(kernel.kernelRelease, "6.1.0-37-686");
});

test("download fetches the .deb from the pool, verified, into the cache", async () => {
  await withRepo(STANDARD, async (repo, mirror, cacheDir) => {
    await repo.loadIndex();
    const received: number[] = [];
    const file = await repo.download(repo.require("busybox-static"), (r) => received.push(r));
    assert.equal(file, path.join(cacheDir, "sha256", sha256(DEB_BYTES)));
    assert.ok((await fs.readFile(file)).equals(DEB_BYTES));
    assert.equal(received.at(-1), DEB_BYTES.length);
    assert.equal(mirror.requests.at(-1), "pool/main/b/busybox/busybox-static_1.35.0-4+b3_i386.deb");
    await assert.rejects(repo.download(repo.require("seabios")), /HTTP 404/);
  });
});

test("parseRelations drops versions, architecture qualifiers and restrictions", () => {
  assert.deepEqual(parseRelations("libc6 (>= 2.34), libgcc-s1 | libgcc1, perl:any [!i386] <!nocheck>, python3:native (>= 3.11~)"), [["libc6"], ["libgcc-s1", "libgcc1"], ["perl"], ["python3"]]);
  assert.deepEqual(parseRelations(""), []);
  assert.deepEqual(parseRelations("a,\n b |\n c"), [["a"], ["b", "c"]], "a field continued over lines");
});

test("queries before loadIndex say what to call", () => {
  const repo = new DebianRepository("http://mirror.example/debian", new DownloadCache(os.tmpdir()));
  assert.throws(() => repo.find("libc6"), /loadIndex/);
});
