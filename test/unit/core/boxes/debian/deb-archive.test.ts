import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { readArArchive, ArArchiveError } from "../../../../../src/core/boxes/debian/ar-archive";
import { DebArchiveError, readDeb, type DebEntry } from "../../../../../src/core/boxes/debian/deb-archive";

type TarItem = {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device";
  mode?: number;
  linkname?: string;
  content?: string | Buffer;
  devmajor?: number;
  devminor?: number;
};

async function tarOf(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const item of items) {
    const { content, ...header } = item;
    await new Promise<void>((resolve, reject) => pack.entry({ mtime: new Date(1_700_000_000_000), uid: 0, gid: 0, ...header }, content ?? "", (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Compresses with the system's xz / zstd: tests only; Hangar itself only decompresses. */
function compress(data: Buffer, how: "xz" | "zst" | "gz" | ""): Buffer {
  if (how === "gz") return gzipSync(data);
  if (how === "xz") return execFileSync("xz", ["-c", "-6"], { input: data });
  if (how === "zst") return execFileSync("zstd", ["-c", "-q"], { input: data });
  return data;
}

/** An ar archive; `gnu` writes "name/" and long names through a "//" table, else dpkg-deb's plain names. */
function arOf(members: Array<{ name: string; data: Buffer }>, style: "dpkg" | "gnu" | "bsd" = "dpkg"): Buffer {
  const header = (name: string, size: number): Buffer =>
    Buffer.from(name.padEnd(16) + "1700000000".padEnd(12) + "0".padEnd(6) + "0".padEnd(6) + "100644".padEnd(8) + String(size).padEnd(10) + "`\n", "latin1");
  const parts: Buffer[] = [Buffer.from("!<arch>\n")];
  const push = (name: string, data: Buffer): void => {
    parts.push(header(name, data.length), data);
    if (data.length % 2) parts.push(Buffer.from("\n"));
  };
  if (style === "gnu") {
    const long = members.filter((m) => m.name.length > 15);
    const table = Buffer.from(long.map((m) => `${m.name}/\n`).join(""));
    push("/", Buffer.from([0, 0, 0, 0])); // symbol table, to be skipped
    if (long.length) push("//", table);
    let offset = 0;
    for (const m of members) {
      if (m.name.length > 15) {
        push(`/${offset}`, m.data);
        offset += m.name.length + 2;
      } else push(`${m.name}/`, m.data);
    }
  } else if (style === "bsd") {
    for (const m of members) push(`#1/${m.name.length}`, Buffer.concat([Buffer.from(m.name), m.data]));
  } else {
    for (const m of members) push(m.name, m.data);
  }
  return Buffer.concat(parts);
}

const CONTROL = "Package: hello-hangar\nVersion: 1.0-1\nArchitecture: i386\nDepends: libc6 (>= 2.34)\nDescription: a test package\n made for this test\n";

const DATA: TarItem[] = [
  { name: "./", type: "directory", mode: 0o755 },
  { name: "./bin/", type: "directory", mode: 0o755 },
  { name: "./bin/hello", mode: 0o4755, content: "#!/bin/sh\necho hello\n" },
  { name: "./bin/hi", type: "symlink", linkname: "hello" },
  { name: "./bin/hello-again", type: "link", linkname: "./bin/hello" },
  { name: "./usr/share/doc/hello-hangar/odd", mode: 0o644, content: "odd" },
  { name: "./dev/console", type: "character-device", mode: 0o600, devmajor: 5, devminor: 1 },
];

async function withDeb(members: Array<{ name: string; data: Buffer }>, style: "dpkg" | "gnu" | "bsd", fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-deb-"));
  try {
    const file = path.join(dir, "hello-hangar_1.0-1_i386.deb");
    await fs.writeFile(file, arOf(members, style));
    await fn(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function debMembers(data: TarItem[], dataCompression: "xz" | "zst" | "gz" | "", controlCompression: "xz" | "zst" | "gz" | "" = "gz") {
  return [
    { name: "debian-binary", data: Buffer.from("2.0\n") },
    {
      name: `control.tar${controlCompression ? `.${controlCompression}` : ""}`,
      data: compress(
        await tarOf([
          { name: "./", type: "directory" },
          { name: "./control", content: CONTROL },
          { name: "./postinst", mode: 0o755, content: "#!/bin/sh\n" },
        ]),
        controlCompression,
      ),
    },
    { name: `data.tar${dataCompression ? `.${dataCompression}` : ""}`, data: compress(await tarOf(data), dataCompression) },
  ];
}

async function all(file: string): Promise<DebEntry[]> {
  const deb = await readDeb(file);
  const out: DebEntry[] = [];
  for await (const e of deb.entries()) out.push(e);
  return out;
}

test("a .deb with data.tar.xz: control fields and every entry kind", async () => {
  await withDeb(await debMembers(DATA, "xz"), "dpkg", async (file) => {
    const deb = await readDeb(file);
    assert.equal(deb.control.get("Package"), "hello-hangar");
    assert.equal(deb.control.get("Version"), "1.0-1");
    assert.equal(deb.control.get("Depends"), "libc6 (>= 2.34)");
    assert.equal(deb.control.get("Description"), "a test package\nmade for this test");
    assert.deepEqual([...deb.controlFiles.keys()].sort(), ["control", "postinst"]);
    const entries = await all(file);
    assert.deepEqual(
      entries.map((e) => [e.path, e.type]),
      [
        ["bin", "directory"],
        ["bin/hello", "file"],
        ["bin/hi", "symlink"],
        ["bin/hello-again", "hardlink"],
        ["usr/share/doc/hello-hangar/odd", "file"],
        ["dev/console", "char-device"],
      ],
      "the root entry ./ is not reported; paths have no ./ and no trailing /",
    );
    const hello = entries[1];
    assert.equal(hello.mode, 0o4755);
    assert.equal(hello.mtime, 1_700_000_000);
    assert.equal(hello.content?.toString(), "#!/bin/sh\necho hello\n");
    assert.equal(entries[2].linkname, "hello");
    assert.equal(entries[3].linkname, "bin/hello");
    assert.equal(entries[4].content?.toString(), "odd");
    assert.deepEqual([entries[5].devmajor, entries[5].devminor, entries[5].mode], [5, 1, 0o600]);
    assert.equal(entries[0].content, undefined);
  });
});

for (const [compression, style] of [
  ["zst", "gnu"],
  ["gz", "bsd"],
  ["", "dpkg"],
] as const) {
  test(`data.tar${compression ? `.${compression}` : ""} in a ${style}-style ar archive`, async () => {
    await withDeb(await debMembers(DATA, compression, compression === "" ? "xz" : compression), style, async (file) => {
      const entries = await all(file);
      assert.equal(entries.length, 6);
      assert.equal(entries.find((e) => e.path === "bin/hello")?.content?.toString(), "#!/bin/sh\necho hello\n");
    });
  });
}

test("extractData with a filter reads only what was asked for", async () => {
  await withDeb(await debMembers(DATA, "xz"), "dpkg", async (file) => {
    const seen: string[] = [];
    const progress: Array<[number, number]> = [];
    await (
      await readDeb(file)
    ).extractData(
      (p, type) => p.startsWith("bin/") && type === "file",
      (e) => void seen.push(e.path),
      { onProgress: (done, total) => progress.push([done, total]) },
    );
    assert.deepEqual(seen, ["bin/hello"]);
    assert.ok(progress.length > 0 && progress.at(-1)![0] === progress.at(-1)![1], "progress reaches the member's size");
  });
});

test("an entry that climbs out of the root is refused with a clear error", async () => {
  for (const bad of [
    { name: "./usr/../../etc/passwd", content: "root::0:0::/:/bin/sh\n" },
    { name: "./bin/sneaky", type: "link" as const, linkname: "../../etc/shadow" },
  ]) {
    await withDeb(await debMembers([{ name: "./bin/ok", content: "fine" }, bad], "xz"), "dpkg", async (file) => {
      await assert.rejects(all(file), (err: unknown) => {
        assert.ok(err instanceof DebArchiveError);
        assert.match((err as Error).message, /escapes the install root/);
        assert.ok((err as Error).message.includes(bad.type === "link" ? bad.linkname : bad.name));
        return true;
      });
    });
  }
  // ".." that stays inside, and a symlink pointing up (resolved inside the guest), are fine.
  await withDeb(
    await debMembers(
      [
        { name: "./usr/lib/../bin/x", content: "x" },
        { name: "./usr/bin/up", type: "symlink", linkname: "../../bin/busybox" },
      ],
      "xz",
    ),
    "dpkg",
    async (file) => {
      assert.deepEqual(
        (await all(file)).map((e) => e.path),
        ["usr/bin/x", "usr/bin/up"],
      );
    },
  );
});

test("reading stops on abort", async () => {
  await withDeb(await debMembers(DATA, "xz"), "dpkg", async (file) => {
    const deb = await readDeb(file);
    const controller = new AbortController();
    const seen: string[] = [];
    await assert.rejects(
      deb.extractData(
        undefined,
        (e) => {
          seen.push(e.path);
          controller.abort();
        },
        { signal: controller.signal },
      ),
      { name: "AbortError" },
    );
    assert.deepEqual(seen, ["bin"]);
    await assert.rejects(readDeb(file, { signal: AbortSignal.abort() }), { name: "AbortError" });
  });
});

test("damaged packages are refused with errors that say so", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-deb-"));
  try {
    const members = await debMembers(DATA, "xz");
    const good = arOf(members);
    const cases: Array<[string, Buffer, RegExp]> = [
      ["not-ar.deb", Buffer.from("<html>mirror error page</html>"), /not an ar archive/],
      ["truncated.deb", good.subarray(0, good.length - 100), /truncated/],
      ["no-data.deb", arOf(members.slice(0, 2)), /no data\.tar member/],
      ["bz2.deb", arOf([...members.slice(0, 2), { name: "data.tar.bz2", data: Buffer.from("BZh") }]), /cannot read/],
      ["bad-version.deb", arOf([{ name: "debian-binary", data: Buffer.from("3.0\n") }, ...members.slice(1)]), /debian-binary/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, name);
      await fs.writeFile(file, bytes);
      await assert.rejects(readDeb(file), message, name);
    }
    // Damage inside the compressed data shows up when the entries are read.
    const corrupt = Buffer.from(members[2].data);
    corrupt.fill(0x55, 64, 256);
    const file = path.join(dir, "corrupt-xz.deb");
    await fs.writeFile(file, arOf([members[0], members[1], { name: "data.tar.xz", data: corrupt }]));
    await assert.rejects(all(file), (err: unknown) => err instanceof DebArchiveError && /could not be (decompressed|read)/.test((err as Error).message));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("ar: odd-sized members are padded, GNU long names resolved, the symbol table skipped", () => {
  const members = [
    { name: "a", data: Buffer.from("odd") },
    { name: "a-name-longer-than-fifteen", data: Buffer.from("even") },
    { name: "b", data: Buffer.from("x") },
  ];
  for (const style of ["gnu", "bsd"] as const) {
    const read = readArArchive(arOf(members, style), "test.a");
    assert.deepEqual(
      read.map((m) => [m.name, m.data.toString()]),
      members.map((m) => [m.name, m.data.toString()]),
      style,
    );
    assert.equal(read[0].mode, 0o100644);
    assert.equal(read[0].mtime, 1_700_000_000);
  }
  const short = members.filter((m) => m.name.length <= 15); // dpkg-deb's names always fit the header
  assert.deepEqual(
    readArArchive(arOf(short, "dpkg"), "test.a").map((m) => [m.name, m.data.toString()]),
    [
      ["a", "odd"],
      ["b", "x"],
    ],
  );
  assert.throws(() => readArArchive(Buffer.from("!<arch>\nshort"), "test.a"), ArArchiveError);
});
