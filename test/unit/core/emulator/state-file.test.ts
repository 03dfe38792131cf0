import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { readStateFile, writeStateFile } from "../../../../src/core/emulator/state-file";

test("a state and its 9p handles round-trip, compressed or raw", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-state-"));
  try {
    // Like guest memory: mostly zero pages with some data.
    const v86 = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < v86.length; i += 4096) v86[i] = i % 251;
    const fids = [
      { fid: 0, path: [] },
      { fid: 7, path: ["s0", "a.txt"], openFlags: 2 },
    ];
    const packed = await writeStateFile(path.join(dir, "c.state"), v86, fids, true);
    const raw = await writeStateFile(path.join(dir, "r.state"), v86, fids, false);
    assert.ok(packed < raw / 10, `compressed ${packed} vs raw ${raw}`);
    for (const f of ["c.state", "r.state"]) {
      const back = await readStateFile(path.join(dir, f));
      assert.deepEqual(new Uint8Array(back.v86), v86);
      assert.deepEqual(back.ninep, fids);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("a truncated or foreign state file is refused with a clear error", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-state-"));
  try {
    const file = path.join(dir, "s.state");
    await writeStateFile(file, new Uint8Array(100_000).fill(3), [], false);
    const whole = await readFile(file);
    await writeFile(file, whole.subarray(0, whole.length - 10));
    await assert.rejects(readStateFile(file), /truncated/);
    await writeFile(file, Buffer.from("raw v86 state from an older Hangar"));
    await assert.rejects(readStateFile(file), /not a Hangar machine state/);
  } finally {
    await rm(dir, { recursive: true });
  }
});
