import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { BoxStore, boxDirToName, boxNameToDir, compareVersionsDesc } from "../../../../src/core/boxes/box-store";

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(path.join(os.tmpdir(), "hangar-home-"));
  try {
    await fn(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function addBox(home: string, name: string, version: string, provider: string, metadata: string | null): Promise<void> {
  const dir = path.join(home, "boxes", boxNameToDir(name), version, provider);
  await mkdir(dir, { recursive: true });
  if (metadata !== null) await writeFile(path.join(dir, "metadata.json"), metadata);
}

test("an absent box store lists no boxes", async () => {
  await withHome(async (home) => {
    assert.deepEqual(await new BoxStore(home).list(), []);
  });
});

test("boxes are listed with slash names decoded, newest version first", async () => {
  await withHome(async (home) => {
    await addBox(home, "hangar/debian-busybox", "1.9.0", "embedded", '{"provider":"embedded"}');
    await addBox(home, "hangar/debian-busybox", "1.10.0", "embedded", '{"provider":"embedded"}');
    await addBox(home, "alpine", "0", "qemu", "{}");
    const boxes = await new BoxStore(home).list();
    assert.deepEqual(
      boxes.map((b) => `${b.name} ${b.version} ${b.provider} ${b.problem ?? "ok"}`),
      ["alpine 0 qemu ok", "hangar/debian-busybox 1.10.0 embedded ok", "hangar/debian-busybox 1.9.0 embedded ok"],
    );
    assert.equal(boxes[1].path, path.join(home, "boxes", "hangar-VAGRANTSLASH-debian-busybox", "1.10.0", "embedded"));
  });
});

test("a box with missing or broken metadata is listed with the reason", async () => {
  await withHome(async (home) => {
    await addBox(home, "nometa", "1", "embedded", null);
    await addBox(home, "badjson", "1", "embedded", "{not json");
    await addBox(home, "array", "1", "embedded", "[]");
    const problems = Object.fromEntries((await new BoxStore(home).list()).map((b) => [b.name, b.problem]));
    assert.match(problems.nometa ?? "", /metadata\.json is missing/);
    assert.match(problems.badjson ?? "", /not valid JSON/);
    assert.match(problems.array ?? "", /not a JSON object/);
  });
});

test("box names round-trip through their folder names", () => {
  for (const name of ["plain", "org/box", "a/b/c"]) assert.equal(boxDirToName(boxNameToDir(name)), name);
  assert.equal(boxNameToDir("org/box"), "org-VAGRANTSLASH-box");
});

test("versions compare numerically, newest first", () => {
  assert.deepEqual(["1.2", "1.10", "1.9.1", "0.9", "2"].sort(compareVersionsDesc), ["2", "1.10", "1.9.1", "1.2", "0.9"]);
});
