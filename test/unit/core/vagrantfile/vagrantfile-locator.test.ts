import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { findVagrantfile } from "../../../../src/core/vagrantfile/vagrantfile-locator";

test("finds the Vagrantfile in the folder or the nearest parent, like Vagrant", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "hangar-locate-"));
  try {
    await mkdir(path.join(root, "project", "src", "deep"), { recursive: true });
    await writeFile(path.join(root, "project", "Vagrantfile"), "");
    assert.equal(await findVagrantfile(path.join(root, "project", "src", "deep"), {}), path.join(root, "project", "Vagrantfile"));
    assert.equal(await findVagrantfile(path.join(root, "project"), {}), path.join(root, "project", "Vagrantfile"));
    // A folder named Vagrantfile is not a Vagrantfile.
    await mkdir(path.join(root, "other", "Vagrantfile"), { recursive: true });
    assert.equal(await findVagrantfile(path.join(root, "other"), {}), undefined);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("HANGAR_VAGRANTFILE names another file name, or an exact path", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "hangar-locate-"));
  try {
    await mkdir(path.join(root, "a", "b"), { recursive: true });
    await writeFile(path.join(root, "a", "Vagrantfile"), "");
    await writeFile(path.join(root, "a", "Vagrantfile.local"), "");
    await writeFile(path.join(root, "a", "b", "custom.rb"), "");
    assert.equal(await findVagrantfile(path.join(root, "a", "b"), { HANGAR_VAGRANTFILE: "Vagrantfile.local" }), path.join(root, "a", "Vagrantfile.local"));
    assert.equal(await findVagrantfile(path.join(root, "a"), { HANGAR_VAGRANTFILE: "./b/custom.rb" }), path.join(root, "a", "b", "custom.rb"));
    assert.equal(await findVagrantfile(path.join(root, "a"), { HANGAR_VAGRANTFILE: "./missing/file" }), undefined);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
