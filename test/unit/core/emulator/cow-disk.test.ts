import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { COW_CHUNK_BYTES, CowDisk } from "../../../../src/core/emulator/cow-disk";

const CHUNK = COW_CHUNK_BYTES;
const MiB = 1024 * 1024;

const get = (d: CowDisk, start: number, length: number): Promise<Uint8Array> => new Promise((r) => d.get(start, length, r));
const set = (d: CowDisk, start: number, data: Uint8Array): Promise<void> => new Promise((r) => d.set(start, data, r));

/** A seeded PRNG (mulberry32): the same sequence every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(Math.ceil(length / 4) * 4);
  for (let i = 0; i < out.length; i += 4) out.writeUInt32LE(Math.floor(random() * 4294967296), i);
  return out.subarray(0, length);
}

/** A folder with a base image of `baseSize` random bytes; the overlay prefix is in the same folder. */
async function withBase(baseSize: number, body: (base: string, prefix: string, baseBytes: Buffer) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-cow-"));
  try {
    const base = path.join(dir, "box.img");
    const bytes = randomBytes(prng(baseSize), baseSize);
    await writeFile(base, bytes);
    await body(base, path.join(dir, "machine", "disk"), bytes);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens a disk, making its overlay's folder first (the machine's folder, in real use). */
async function openDisk(base: string, prefix: string, size: number): Promise<CowDisk> {
  await mkdir(path.dirname(prefix), { recursive: true });
  return new CowDisk(base, prefix, size);
}

/** The expected bytes of an untouched disk: the base, then zeros. */
function baseView(baseBytes: Buffer, start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (start < baseBytes.length) out.set(baseBytes.subarray(start, Math.min(baseBytes.length, start + length)));
  return out;
}

// 3 MiB and a bit: the base ends inside a chunk and not on a sector.
const BASE = 3 * MiB + 5000;

test("an untouched disk reads as its base, and zeros past the base's end", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const disk = await openDisk(base, prefix, 4 * MiB);
    try {
      assert.equal(disk.byteLength, 4 * MiB);
      for (const [start, length] of [
        [0, 512],
        [CHUNK - 512, 1024], // across a chunk boundary
        [CHUNK * 3 - 4096, 3 * CHUNK + 8192], // across several chunks, one read from the base
        [BASE - 1000, 4096], // across the base's end
        [BASE + 100 * 512, 2 * CHUNK], // wholly past it
        [0, 4 * MiB],
      ])
        assert.deepEqual(await get(disk, start, length), baseView(baseBytes, start, length), `${start}+${length}`);
      assert.deepEqual(disk.get_from_cache(512, 512), baseView(baseBytes, 512, 512));
      assert.deepEqual(disk.get_state(), [4 * MiB, 0]);
    } finally {
      disk.close();
    }
  });
});

test("writes go to the overlay, chunk by chunk, and never to the base", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const before = await stat(base);
    const size = 8 * 1024 ** 3;
    const disk = await openDisk(base, prefix, size);
    const files = CowDisk.files(prefix);
    // A partial write to a base chunk keeps the rest of that chunk's base bytes.
    const a = Buffer.alloc(1024, 0xaa);
    await set(disk, 5 * CHUNK + 512, a);
    const want = baseView(baseBytes, 5 * CHUNK, CHUNK);
    want.set(a, 512);
    assert.deepEqual(await get(disk, 5 * CHUNK, CHUNK), want);
    // A write across a chunk boundary (two new chunks), and one past the base's end.
    const b = Buffer.alloc(2048, 0xbb);
    await set(disk, 9 * CHUNK - 1024, b);
    await set(disk, 5 * CHUNK + 4096, Buffer.alloc(512, 0xcc)); // in place: no new chunk
    await set(disk, size - 512, Buffer.alloc(512, 0xdd));
    assert.deepEqual(await get(disk, 9 * CHUNK - 1024, 2048), new Uint8Array(b));
    assert.deepEqual(await get(disk, 9 * CHUNK - 2048, 1024), baseView(baseBytes, 9 * CHUNK - 2048, 1024));
    assert.deepEqual(await get(disk, size - 1024, 1024), new Uint8Array(1024).fill(0xdd, 512));
    assert.deepEqual(disk.get_state(), [size, 4]);
    disk.sync();
    assert.equal((await stat(files.data)).size, 4 * CHUNK, ".data holds only the chunks written");
    assert.equal((await stat(files.map)).size, (size / CHUNK) * 4, "one map entry per chunk of the disk");
    disk.close();

    const after = await stat(base);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.ok((await readFile(base)).equals(baseBytes), "the base's bytes are unchanged");

    // Another opening (a restarted machine) reads the same bytes.
    const again = new CowDisk(base, prefix, size);
    try {
      assert.deepEqual(await get(again, 5 * CHUNK, CHUNK), (want.fill(0xcc, 4096, 4096 + 512), want));
      assert.deepEqual(await get(again, 9 * CHUNK - 1024, 2048), new Uint8Array(b));
      assert.deepEqual(await get(again, size - 512, 512), new Uint8Array(512).fill(0xdd));
      assert.deepEqual(await get(again, 0, 4 * CHUNK), baseView(baseBytes, 0, 4 * CHUNK));
      assert.deepEqual(again.get_state(), [size, 4]);
      again.set_state([size, 4]);
      again.set_state(null);
      assert.throws(() => again.set_state([size - 512, 4]), /does not belong to this state/);
    } finally {
      again.close();
    }
  });
});

test("an 8 GiB disk over a 3 MiB base costs only the chunks written", async () => {
  await withBase(3 * MiB, async (base, prefix) => {
    const disk = await openDisk(base, prefix, 8 * 1024 ** 3);
    try {
      await set(disk, 0, Buffer.alloc(512, 1));
      await set(disk, 2 * MiB, Buffer.alloc(CHUNK, 2)); // a whole chunk
      await set(disk, 6 * 1024 ** 3, Buffer.alloc(4096, 3));
      assert.equal((await stat(CowDisk.files(prefix).data)).size, 3 * CHUNK);
    } finally {
      disk.close();
    }
  });
});

test("a torn append (the map points past .data's end) reads the base and is repaired", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const disk = await openDisk(base, prefix, 4 * MiB);
    await set(disk, 0, Buffer.alloc(512, 1));
    await set(disk, 7 * CHUNK, Buffer.alloc(512, 2));
    disk.close();
    const files = CowDisk.files(prefix);
    await truncate(files.data, CHUNK + 100); // the second chunk half there
    const again = new CowDisk(base, prefix, 4 * MiB);
    try {
      assert.deepEqual(await get(again, 0, 512), new Uint8Array(512).fill(1));
      assert.deepEqual(await get(again, 7 * CHUNK, CHUNK), baseView(baseBytes, 7 * CHUNK, CHUNK));
      assert.deepEqual(again.get_state(), [4 * MiB, 1]);
      assert.equal((await stat(files.data)).size, CHUNK, "the torn tail is dropped");
      // New chunks take the torn one's place; the repaired entry does not come back to point at them.
      await set(again, 2 * CHUNK, Buffer.alloc(512, 3));
      assert.deepEqual(await get(again, 7 * CHUNK, CHUNK), baseView(baseBytes, 7 * CHUNK, CHUNK));
    } finally {
      again.close();
    }
    const third = new CowDisk(base, prefix, 4 * MiB);
    try {
      assert.deepEqual(await get(third, 7 * CHUNK, 512), baseView(baseBytes, 7 * CHUNK, 512));
      assert.deepEqual(await get(third, 2 * CHUNK, 512), new Uint8Array(512).fill(3));
    } finally {
      third.close();
    }
  });
});

test("a disk grows over its overlay, but neither shrinks nor is smaller than its base", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const disk = await openDisk(base, prefix, 4 * MiB);
    await set(disk, 4 * MiB - 512, Buffer.alloc(512, 9));
    disk.close();
    const bigger = new CowDisk(base, prefix, 16 * MiB);
    try {
      assert.equal(bigger.byteLength, 16 * MiB);
      assert.equal((await stat(CowDisk.files(prefix).map)).size, ((16 * MiB) / CHUNK) * 4);
      assert.deepEqual(await get(bigger, 4 * MiB - 512, 1024), new Uint8Array(1024).fill(9, 0, 512));
      assert.deepEqual(await get(bigger, 16 * MiB - CHUNK, CHUNK), new Uint8Array(CHUNK));
      assert.deepEqual(await get(bigger, 0, 4096), baseView(baseBytes, 0, 4096));
      await set(bigger, 16 * MiB - 512, Buffer.alloc(512, 8));
      assert.deepEqual(await get(bigger, 16 * MiB - 512, 512), new Uint8Array(512).fill(8));
    } finally {
      bigger.close();
    }
    assert.throws(() => new CowDisk(base, prefix, 8 * MiB), /cannot shrink/);
    assert.throws(() => new CowDisk(base, `${prefix}-other`, 2 * MiB), /smaller than its box's disk/);
    assert.equal(existsSync(`${prefix}-other.map`), false, "a refused disk makes no overlay");
  });
});

test("accesses past the end, bad sizes, a missing base and a closed disk are refused", async () => {
  await withBase(BASE, async (base, prefix) => {
    assert.throws(() => new CowDisk(base, prefix, 4 * MiB + 1000), /multiple of 512/);
    assert.throws(() => new CowDisk(`${base}.missing`, prefix, 4 * MiB), /base disk image .* is missing/);
    assert.equal(existsSync(CowDisk.files(prefix).data), false);
    const disk = await openDisk(base, prefix, 4 * MiB);
    assert.throws(() => disk.get(4 * MiB - 511, 512, () => undefined), /past the end/);
    assert.throws(() => disk.set(4 * MiB, Buffer.alloc(512), () => undefined), /past the end/);
    assert.throws(() => disk.get_from_cache(-512, 512), /past the end/);
    disk.close();
    disk.close(); // twice is fine
    assert.throws(() => disk.get_from_cache(3.5 * MiB, 512), /closed/);
  });
});

test("a .data without its .map is refused, not read as the bare base", async () => {
  await withBase(BASE, async (base, prefix) => {
    const disk = await openDisk(base, prefix, 4 * MiB);
    await set(disk, 0, Buffer.alloc(512, 1));
    disk.close();
    await rm(CowDisk.files(prefix).map);
    assert.throws(() => new CowDisk(base, prefix, 4 * MiB), /cannot be read/);
    await CowDisk.removeOverlay(prefix);
    assert.equal(existsSync(CowDisk.files(prefix).data), false);
    new CowDisk(base, prefix, 4 * MiB).close(); // a removed overlay opens as the bare base
  });
});

test("copyOverlay makes an independent copy", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const disk = await openDisk(base, prefix, 4 * MiB);
    await set(disk, CHUNK, Buffer.alloc(1024, 1));
    disk.close();
    const snap = `${prefix}-snap`;
    await CowDisk.copyOverlay(prefix, snap);
    assert.equal(existsSync(`${CowDisk.files(snap).map}.tmp`), false);
    const copy = new CowDisk(base, snap, 4 * MiB);
    try {
      assert.deepEqual(await get(copy, CHUNK, 1024), new Uint8Array(1024).fill(1));
      await set(copy, CHUNK, Buffer.alloc(512, 2));
      await set(copy, 20 * CHUNK, Buffer.alloc(512, 3));
    } finally {
      copy.close();
    }
    const original = new CowDisk(base, prefix, 4 * MiB);
    try {
      assert.deepEqual(await get(original, CHUNK, 1024), new Uint8Array(1024).fill(1));
      assert.deepEqual(await get(original, 20 * CHUNK, 512), baseView(baseBytes, 20 * CHUNK, 512));
    } finally {
      original.close();
    }
    // Back over the original (restoring a snapshot).
    await CowDisk.copyOverlay(snap, prefix);
    const restored = new CowDisk(base, prefix, 4 * MiB);
    try {
      assert.deepEqual(await get(restored, CHUNK, 1024), new Uint8Array(1024).fill(2, 0, 512).fill(1, 512));
      assert.deepEqual(await get(restored, 20 * CHUNK, 512), new Uint8Array(512).fill(3));
    } finally {
      restored.close();
    }
    await assert.rejects(CowDisk.copyOverlay(`${prefix}-none`, `${prefix}-x`), /nothing to copy/);
  });
});

test("500 random reads and writes agree with an in-memory disk", async () => {
  await withBase(BASE, async (base, prefix, baseBytes) => {
    const size = 6 * MiB; // larger than the base: its tail reads zeros
    const model = new Uint8Array(size);
    model.set(baseBytes);
    const random = prng(86);
    const sectors = size / 512;
    let disk = await openDisk(base, prefix, size);
    try {
      for (let op = 0; op < 500; op++) {
        const count = 1 + Math.floor(random() * 512); // up to 256 KiB
        const start = Math.floor(random() * (sectors - count + 1)) * 512;
        const length = count * 512;
        if (random() < 0.5) {
          const data = randomBytes(random, length);
          await set(disk, start, data);
          model.set(data, start);
        } else {
          const got = await get(disk, start, length);
          assert.ok(Buffer.from(got).equals(Buffer.from(model.buffer, start, length)), `op ${op}: read ${start}+${length}`);
        }
        if (op === 250) {
          disk.close(); // and reopen, halfway
          disk = new CowDisk(base, prefix, size);
        }
      }
      assert.ok(Buffer.from(await get(disk, 0, size)).equals(Buffer.from(model)), "the whole disk");
    } finally {
      disk.close();
    }
    assert.ok((await readFile(base)).equals(baseBytes), "the base's bytes are unchanged");
  });
});

test("flatten writes what the guest sees as one sparse image: overlay over base, zeros as holes, the base untouched", async () => {
  await withBase(3 * MiB, async (base, prefix, baseBytes) => {
    await mkdir(path.dirname(prefix), { recursive: true });
    const size = 64 * MiB;
    const disk = new CowDisk(base, prefix, size);
    await set(disk, CHUNK + 512, Buffer.alloc(1024, 0xab)); // inside the base
    await set(disk, 0, Buffer.alloc(CHUNK)); // zeros over base data
    await set(disk, 40 * MiB, Buffer.from("far past the base"));
    disk.close();
    const out = path.join(path.dirname(prefix), "flat.img");
    await CowDisk.flatten(base, prefix, size, out);
    const flat = await readFile(out);
    assert.equal(flat.length, size);
    const expected = Buffer.alloc(size);
    baseBytes.copy(expected);
    expected.fill(0, 0, CHUNK);
    expected.fill(0xab, CHUNK + 512, CHUNK + 1536);
    expected.write("far past the base", 40 * MiB);
    assert.ok(flat.equals(expected), "the flattened image is the guest's view");
    assert.ok((await stat(out)).blocks * 512 < 8 * MiB, "the zeros past the base are holes");
    assert.ok((await readFile(base)).equals(baseBytes), "the base is unchanged");
  });
});
