import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import { activateHangar, EXTENSION_ID, until, workspaceRoot } from "./helpers";
import { screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";
import { keepAsWalkthroughMedia, remakeWalkthroughMedia, viewPane } from "./walkthrough-media";

const SIDEBAR = ".part.sidebar";
const boxHome = process.env.HANGAR_TEST_BOX_HOME;
const run = promisify(execFile);

interface Walkthrough {
  id: string;
  steps: Array<{ id: string; title: string; description: string; media: { image?: string }; completionEvents?: string[] }>;
}

function walkthrough(): Walkthrough {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const w = (ext.packageJSON as { contributes: { walkthroughs: Walkthrough[] } }).contributes.walkthroughs.find((x) => x.id === "hangar.getStarted");
  assert.ok(w, "package.json contributes the hangar.getStarted walkthrough");
  return w;
}

describe("Walkthrough", function () {
  this.timeout(120_000);

  // The images of the box, image and containers steps (the machine and terminal ones come from "Machine files"), made only on request.
  it("remakes the box, image and containers images (HANGAR_WALKTHROUGH_MEDIA=1)", async function () {
    if (!remakeWalkthroughMedia || !boxHome) this.skip();
    this.timeout(400_000);
    const api = await activateHangar();
    const config = vscode.workspace.getConfiguration("hangar");
    await config.update("engine.memory", 128, vscode.ConfigurationTarget.Global);
    await config.update("home", boxHome, vscode.ConfigurationTarget.Global);
    const folder = path.join(workspaceRoot().fsPath, "hello-hangar");
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, "dist", "cli.js");
    const env = { ...process.env, HANGAR_HOME: boxHome, ELECTRON_RUN_AS_NODE: "1", DOCKER_HOST: `unix://${boxHome}/docker.sock`, DOCKER_BUILDKIT: "0" };
    try {
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      await vscode.commands.executeCommand("hangar.boxes.focus");
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => r.includes("debian-busybox")));
      await keepAsWalkthroughMedia(await screenshot("walkthrough-box", viewPane("Boxes")), "box");

      await fs.mkdir(folder, { recursive: true });
      await fs.writeFile(path.join(folder, "Dockerfile"), ["FROM busybox:latest", "RUN echo hello from hangar > /hello.txt", 'CMD ["sh", "-c", "cat /hello.txt; exec sleep 600"]', ""].join("\n"));
      await run(process.execPath, [cli, "engine", "start", "--memory", "128"], { env, timeout: 120_000 });
      await run("docker", ["build", "-t", "hello-hangar", folder], { env, timeout: 240_000 });
      await run("docker", ["run", "-d", "--name", "hello-hangar", "hello-hangar"], { env, timeout: 60_000 });
      await vscode.commands.executeCommand("hangar.images.focus");
      api.imagesTree.refresh();
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => r.includes("hello-hangar")), 60_000);
      await keepAsWalkthroughMedia(await screenshot("walkthrough-image", viewPane("Images")), "image");
      await vscode.commands.executeCommand("hangar.containers.focus");
      await until(async () => (await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => /hello-hangar.*Up/.test(r)), 60_000)).length > 0, "the running container");
      await keepAsWalkthroughMedia(await screenshot("walkthrough-containers", viewPane("Containers")), "containers");
    } finally {
      await run("docker", ["rm", "-f", "hello-hangar"], { env }).catch(() => undefined);
      await run("docker", ["rmi", "hello-hangar"], { env }).catch(() => undefined);
      await run(process.execPath, [cli, "engine", "stop"], { env, timeout: 120_000 }).catch(() => undefined);
      await config.update("home", undefined, vscode.ConfigurationTarget.Global);
      await config.update("engine.memory", undefined, vscode.ConfigurationTarget.Global);
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it("opens Get Started with Hangar; every step's buttons run registered commands, each step has its image", async () => {
    await activateHangar();
    const w = walkthrough();
    assert.deepEqual(
      w.steps.map((s) => s.id),
      ["box", "machine", "terminal", "image", "containers"],
    );
    const known = new Set(await vscode.commands.getCommands(false));
    const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    for (const step of w.steps) {
      const buttons = [...step.description.matchAll(/\]\(command:([\w.-]+)\)/g)].map((m) => m[1]);
      assert.ok(buttons.length, `step ${step.id} has a button`);
      for (const c of buttons) assert.ok(known.has(c), `step ${step.id}: command ${c} is not registered`);
      for (const e of step.completionEvents ?? []) {
        const [kind, what] = e.split(":");
        if (kind === "onCommand") assert.ok(known.has(what), `step ${step.id}: completion event ${e} names no command`);
        else if (kind === "onView") assert.ok(known.has(`${what}.focus`), `step ${step.id}: completion event ${e} names no view`);
      }
      assert.ok(step.media.image, `step ${step.id} has an image`);
      const image = await fs.readFile(path.join(root, step.media.image));
      assert.equal(image.subarray(1, 4).toString(), "PNG", `${step.media.image} is a PNG`);
      assert.ok(image.length <= 150 * 1024, `${step.media.image} is ${image.length} bytes`);
    }

    await vscode.commands.executeCommand("workbench.action.openWalkthrough", `${EXTENSION_ID}#hangar.getStarted`, false);
    if (!uiBridgeAvailable) return;
    const titles = await waitForText(".getting-started-step .step-title", (t) => t.some((x) => x.includes("Build or add a box")));
    assert.deepEqual(
      titles.map((t) => t.trim()),
      w.steps.map((s) => s.title),
    );
    // The first step is open: its image is shown beside it.
    await waitForText(".gettingStartedSlideDetails .getting-started-media img, .getting-started-media img", (t) => t.length > 0).catch(() => undefined);
    console.log(`    screenshot: ${await screenshot("hangar-walkthrough", ".part.editor")}`);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });
});
