import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { activateHangar } from "./helpers";

describe("Boxes view actions", function () {
  this.timeout(300_000);
  let home = "";

  before(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-vscode-boxes-"));
    // The launcher's box home holds the Debian downloads the shared test box was built from: with them the build
    // reads the mirror's index and takes the packages from the cache instead of downloading them again.
    const boxHome = process.env.HANGAR_TEST_BOX_HOME;
    if (boxHome) await fs.cp(path.join(boxHome, "cache"), path.join(home, "cache"), { recursive: true }).catch(() => undefined);
    await vscode.workspace.getConfiguration("hangar").update("home", home, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await vscode.workspace.getConfiguration("hangar").update("home", undefined, vscode.ConfigurationTarget.Global);
    await fs.rm(home, { recursive: true, force: true });
  });

  it("builds the default box from Debian packages, lists it, and removes it", async () => {
    const api = await activateHangar();
    const built = await vscode.commands.executeCommand<{ version: string; initrdSha256: string } | undefined>("hangar.box.build");
    assert.ok(built?.initrdSha256.match(/^[0-9a-f]{64}$/), "the build reports its initramfs sha256");
    const items = await api.boxesTree.getChildren();
    assert.deepEqual(
      items.map((i) => [i.label, i.description]),
      [["hangar/debian-busybox", `${built!.version} · embedded`]],
    );
    const removed = await vscode.commands.executeCommand<unknown[]>("hangar.box.remove", items[0], { confirm: false });
    assert.equal(removed?.length, 1);
    assert.deepEqual(await api.boxesTree.getChildren(), []);
  });
});
