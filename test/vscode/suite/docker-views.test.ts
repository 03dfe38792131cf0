import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import type { HangarApi } from "../../../src/extension";
import { activateHangar, boxHome, children, EXTENSION_ID, labelOf, resetEngineHome, SHARED_CACHE, until, useEngineHome, workspaceFile } from "./helpers";
import { EXPANDED_AT_FIRST, screenshot, showOnly, SIDEBAR, uiBridgeAvailable, waitForRows, waitForText } from "./ui-bridge";
import { makeKey, OpenSshServer, SSHD, sshdInstalled } from "../../system/fixtures/openssh-server";
import { startRegistry } from "../../system/fixtures/local-registry";

const run = promisify(execFile);

/** The built `hangar` CLI of the extension under test, for engines the test starts and stops itself. */
async function hangarCli(home: string, args: string[]): Promise<string> {
  const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, "dist", "cli.js");
  const { stdout } = await run(process.execPath, [cli, ...args], { env: { ...process.env, HANGAR_HOME: home, ELECTRON_RUN_AS_NODE: "1" }, timeout: 120_000 });
  return stdout;
}

/** A plain API call on an engine's socket (what the test sets up, not what it checks). */
function apiPost(socket: string, apiPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: apiPath, method: "POST", headers: { Host: "docker" } }, (res) => {
      // A pull answers 200 at once and streams its progress: done when the body ends.
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

describe("Images and Containers views (real embedded engine)", function () {
  this.timeout(300_000);
  let api: HangarApi;
  let folder: vscode.Uri;
  let dockerfile: vscode.Uri;
  let containerId = "";

  before(async function () {
    if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
    await useEngineHome();
    ({ folder, file: dockerfile } = await workspaceFile("dockertest", "Dockerfile", [
      "FROM busybox:latest",
      "RUN echo built-by-hangar > /built.txt && mkdir /www && echo '<h1>served by hangar</h1>' > /www/index.html && ln -s /www /site",
      "EXPOSE 8080",
      'CMD ["sh", "-c", "httpd -p 8080 -h /www; echo hello from hangar; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done"]',
      "",
    ]));
    api = await activateHangar();
  });

  after(async () => {
    if (!boxHome) return;
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    for (const t of vscode.window.terminals) t.dispose();
    await resetEngineHome();
    await hangarCli(boxHome, ["engine", "stop"]).catch(() => undefined);
    await fs.rm(folder.fsPath, { recursive: true, force: true });
  });

  it("builds an image from the Dockerfile's CodeLens and lists it by repository, with its history", async () => {
    await vscode.window.showTextDocument(dockerfile);
    await vscode.commands.executeCommand("workbench.view.extension.hangar");
    let lenses: vscode.CodeLens[] = [];
    await until(async () => {
      lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", dockerfile, 10)) ?? [];
      return lenses.some((l) => l.command?.command === "hangar.image.build");
    }, "the Build Image lens");
    const lens = lenses.find((l) => l.command?.command === "hangar.image.build")!;
    assert.match(lens.command!.title, /Build Image/);
    // The view follows the engine's events (here after the Compose suite moved hangar.home away and back).
    let reloads = 0;
    const counting = api.imagesTree.onDidChangeTreeData(() => reloads++);
    // The lens asks for a tag (the folder's name by default): accept it as a user pressing Enter would.
    const built = vscode.commands.executeCommand<string>(lens.command!.command, ...(lens.command!.arguments ?? []));
    let done = false;
    void Promise.resolve(built).finally(() => (done = true));
    while (!done && !api.dockerTerminals().ptys.some((p) => p.title.startsWith("Build "))) {
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      await new Promise((r) => setTimeout(r, 300));
    }
    const imageId = await built;
    assert.match(imageId ?? "", /^sha256:[0-9a-f]{64}$/, `build result: ${imageId}`);
    const log = api.dockerTerminals().ptys.find((p) => p.title === "Build dockertest:latest");
    assert.ok(
      log,
      `terminals: ${api
        .dockerTerminals()
        .ptys.map((p) => p.title)
        .join(", ")}`,
    );
    assert.match(log.transcript, /Step 2\/4 : RUN echo built-by-hangar/);
    assert.match(log.transcript, /Built dockertest:latest/);

    // The new tag appears without a refresh: the view is told, and (where the page can be seen) shows it.
    try {
      await until(() => reloads > 0, "the Images view told of the build by the engine's events", 30_000);
    } finally {
      counting.dispose();
    }
    if (uiBridgeAvailable) {
      try {
        await waitForRows("Images", ["Images", "Containers"], (rows) => rows.some((r) => r.includes("dockertest")));
      } finally {
        await showOnly(EXPANDED_AT_FIRST);
      }
    }
    let repos: vscode.TreeItem[] = [];
    await until(
      async () => {
        repos = await children(api.imagesTree);
        return repos.some((r) => labelOf(r) === "dockertest");
      },
      () => `dockertest in the Images view (have ${repos.map(labelOf).join(", ")})`,
      30_000,
    );
    const repo = repos.find((r) => labelOf(r) === "dockertest")!;
    const tags = await children(api.imagesTree, repo);
    assert.deepEqual(tags.map(labelOf), ["latest"]);
    assert.equal(tags[0].contextValue, "image");
    assert.match(String(tags[0].description), /^[\d.]+ [kM]?B · /);
    const layers = (await children(api.imagesTree, tags[0])).map(labelOf);
    assert.ok(
      layers.some((l) => l.includes("RUN echo built-by-hangar")),
      `history: ${layers.join(" | ")}`,
    );
  });

  it("runs it, shows it running with its logs, a shell and its files, then stops and removes it (screenshots)", async () => {
    const tag = (
      await children(
        api.imagesTree,
        (await children(api.imagesTree)).find((r) => labelOf(r) === "dockertest"),
      )
    )[0];
    containerId = (await vscode.commands.executeCommand<string>("hangar.image.run", tag)) ?? "";
    assert.match(containerId, /^[0-9a-f]{64}$/);
    let groups: vscode.TreeItem[] = [];
    await until(
      async () => {
        groups = await children(api.containersTree);
        return labelOf(groups[0] ?? {}) === "Running" && (await children(api.containersTree, groups[0])).some((c) => c.id === `container:${containerId}`);
      },
      () => `the container under Running (groups ${groups.map(labelOf).join(", ")})`,
      60_000,
    );
    const item = (await children(api.containersTree, groups[0])).find((c) => c.id === `container:${containerId}`)!;
    // -P published the image's EXPOSEd port on the host's loopback; the browser action opens it.
    assert.equal(item.contextValue, "container.running.ports");
    assert.match(String(item.description), /^dockertest(:latest)? · Up .* · 127\.0\.0\.1:\d+->8080\/tcp$/);
    const url = await vscode.commands.executeCommand<string>("hangar.container.openPort", item);
    assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);
    // httpd may still be starting when the container shows as running.
    let page = "";
    await until(
      async () => {
        page = await fetch(url!).then(
          (r) => r.text(),
          (err: Error) => `(${err.message})`,
        );
        return page.includes("<h1>served by hangar</h1>");
      },
      () => `the page through the published port (last: ${page})`,
      30_000,
    );

    // Logs follow the output as it comes.
    await vscode.commands.executeCommand("hangar.container.logs", item);
    const logs = () => api.dockerTerminals().ptys.find((p) => p.title.endsWith("(logs)"));
    await until(
      () => /hello from hangar[\s\S]*tick 3/.test(logs()?.transcript ?? ""),
      () => `logs: ${JSON.stringify(logs()?.transcript)}`,
      30_000,
    );

    // A shell on a TTY the size of the terminal.
    const terminal = vscode.window.terminals.length;
    await vscode.commands.executeCommand("hangar.container.shell", item);
    await until(() => vscode.window.terminals.length > terminal, "the shell terminal");
    const shellPty = () =>
      api.dockerTerminals().ptys.find((p) => p.title.endsWith("(shell)")) as (ReturnType<HangarApi["dockerTerminals"]>["ptys"][number] & { dimensions?: vscode.TerminalDimensions }) | undefined;
    await until(
      () => /\/ # /.test(shellPty()?.transcript ?? ""),
      () => `a prompt: ${JSON.stringify(shellPty()?.transcript)}`,
      30_000,
    );
    const shell = vscode.window.terminals.find((t) => t.name.endsWith("(shell)"))!;
    shell.show();
    shell.sendText("cat /built.txt; echo $((6*7)); stty size");
    await until(
      () => /built-by-hangar\s+42\s+\d+ \d+/.test(shellPty()?.transcript ?? ""),
      () => `shell: ${JSON.stringify(shellPty()?.transcript)}`,
      30_000,
    );
    const size = /42\s+(\d+) (\d+)/.exec(shellPty()!.transcript)!;
    const dims = shellPty()!.dimensions;
    if (dims) assert.deepEqual([Number(size[1]), Number(size[2])], [dims.rows, dims.columns]);

    // Its files, read-only, over the archive API.
    const root = (await children(api.containersTree, item))[0];
    assert.equal(labelOf(root), "Files");
    const top = (await children(api.containersTree, root)).map(labelOf);
    for (const name of ["bin", "built.txt", "etc", "proc"]) assert.ok(top.includes(name), `/ has ${top.join(", ")}`);
    // A link to a folder is a folder (listed through its target).
    const site = (await children(api.containersTree, root)).find((c) => labelOf(c) === "site")!;
    assert.equal(site.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.deepEqual((await children(api.containersTree, site)).map(labelOf), ["index.html"]);
    const file = vscode.Uri.from({ scheme: "hangar-container", authority: containerId, path: "/built.txt" });
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(file)).toString(), "built-by-hangar\n");
    const editor = await vscode.window.showTextDocument(file);
    assert.equal(editor.document.getText(), "built-by-hangar\n");
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(file, Buffer.from("x"))));

    if (uiBridgeAvailable) {
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      // Only the two views this looks at: with all eight expanded, a pane can be too short to render its rows.
      const shown = ["Images", "Containers"];
      try {
        await waitForRows("Images", shown, (rows) => rows.some((r) => r.includes("dockertest")));
        await waitForRows("Containers", shown, (rows) => rows.some((r) => r.includes("Running")));
        console.log(`    screenshot: ${await screenshot("hangar-images-containers", SIDEBAR)}`);
        await screenshot("hangar-docker-window");
      } finally {
        await showOnly(EXPANDED_AT_FIRST);
      }
    }

    await vscode.commands.executeCommand("hangar.container.stop", item);
    await until(async () => (await children(api.containersTree)).some((g) => labelOf(g) === "Exited"), "the container under Exited", 60_000);
    await until(() => logs()?.closed === true || /end of output/.test(logs()?.transcript ?? ""), "the logs to end with the container", 30_000);
    assert.equal(await vscode.commands.executeCommand("hangar.container.remove", containerId, { confirm: false }), true);
    await until(async () => !(api.containersTree.lastShown ?? []).some((c) => c.Id === containerId) && (await children(api.containersTree)).length === 0, "the container to be gone", 30_000);
  });

  it("tags, inspects, saves and loads, pauses, copies, groups by image, removes in use by force, prunes, runs interactively", async () => {
    const tagsOf = async (): Promise<string[]> => {
      const repo = (await children(api.imagesTree)).find((r) => labelOf(r) === "dockertest");
      return repo ? (await children(api.imagesTree, repo)).map(labelOf) : [];
    };
    assert.equal(await vscode.commands.executeCommand("hangar.image.tag", "dockertest:latest", "dockertest:v2"), "dockertest:v2");
    await until(async () => (await tagsOf()).join() === "latest,v2", "tags latest,v2", 30_000);

    // Inspect: the API's JSON in a read-only document.
    await vscode.commands.executeCommand("hangar.image.inspect", "dockertest:v2");
    const doc = vscode.window.activeTextEditor!.document;
    assert.equal(doc.uri.scheme, "hangar-inspect");
    assert.equal(doc.languageId, "json");
    assert.ok((JSON.parse(doc.getText()) as { RepoTags: string[] }).RepoTags.includes("dockertest:v2"));

    // Save, remove the tag, load it back.
    const archive = path.join(os.tmpdir(), `hangar-save-${process.pid}.tar`);
    try {
      assert.equal(await vscode.commands.executeCommand("hangar.image.save", "dockertest:v2", archive), archive);
      assert.ok((await fs.stat(archive)).size > 100_000);
      assert.equal(await vscode.commands.executeCommand("hangar.image.remove", "dockertest:v2", { confirm: false }), true);
      await until(async () => (await tagsOf()).join() === "latest", "v2 untagged", 30_000);
      // A cancelled load adds nothing; then the load itself.
      assert.equal(await vscode.commands.executeCommand("hangar.images.load", archive, { signal: AbortSignal.abort() }), undefined);
      assert.equal((await tagsOf()).join(), "latest", "a cancelled load added a tag");
      const loaded = await vscode.commands.executeCommand<string[]>("hangar.images.load", archive);
      assert.ok(
        loaded?.some((l) => l.includes("dockertest:v2")),
        `load said ${JSON.stringify(loaded)}`,
      );
      await until(async () => (await tagsOf()).join() === "latest,v2", "v2 loaded back", 30_000);
    } finally {
      await fs.rm(archive, { force: true });
    }

    // Pause and unpause; copy ID, name and IP address.
    const id = (await vscode.commands.executeCommand<string>("hangar.image.run", "dockertest:v2"))!;
    const groupOf = async (): Promise<string | undefined> => {
      for (const g of await children(api.containersTree)) if ((await children(api.containersTree, g)).some((c) => c.id === `container:${id}`)) return labelOf(g);
      return undefined;
    };
    await until(async () => (await groupOf()) === "Running", "the second container running", 60_000);
    await vscode.commands.executeCommand("hangar.container.pause", id);
    await until(async () => (await groupOf()) === "Paused", "Paused", 30_000);
    await vscode.commands.executeCommand("hangar.container.unpause", id);
    await until(async () => (await groupOf()) === "Running", "Running again", 30_000);
    assert.equal(await vscode.commands.executeCommand("hangar.container.copyId", id), id);
    assert.equal(await vscode.env.clipboard.readText(), id);
    const name = api.containersTree.lastShown.find((c) => c.Id === id)!.Names[0].slice(1);
    assert.equal(await vscode.commands.executeCommand("hangar.container.copyName", { container: api.containersTree.lastShown.find((c) => c.Id === id) }), name);
    assert.match((await vscode.commands.executeCommand<string>("hangar.container.copyIp", id)) ?? "", /^172\.17\.\d+\.\d+$/);

    // Grouped by image instead of state.
    const config = vscode.workspace.getConfiguration("hangar");
    await config.update("containers.groupBy", "image", vscode.ConfigurationTarget.Global);
    try {
      await until(async () => (await children(api.containersTree)).some((g) => labelOf(g) === "dockertest:v2"), "a dockertest:v2 group", 30_000);
    } finally {
      await config.update("containers.groupBy", undefined, vscode.ConfigurationTarget.Global);
    }

    // A stopped container still uses the image: removing its last tag needs force, then prune keeps it until the container goes.
    await vscode.commands.executeCommand("hangar.container.stop", id);
    await until(async () => (await groupOf()) === "Exited", "Exited", 60_000);
    assert.equal(await vscode.commands.executeCommand("hangar.image.remove", "dockertest:v2", { confirm: false }), true);
    assert.equal(await vscode.commands.executeCommand("hangar.image.remove", "dockertest:latest", { confirm: false }), undefined, "refused: a container uses it");
    assert.equal(await vscode.commands.executeCommand("hangar.image.remove", "dockertest:latest", { confirm: false, force: true }), true);
    await until(async () => (await children(api.imagesTree)).some((r) => labelOf(r) === "<none>"), "the image left untagged (its container uses it)", 30_000);
    assert.equal(await vscode.commands.executeCommand("hangar.container.remove", id, { confirm: false }), true);
    await vscode.commands.executeCommand("hangar.images.prune", { confirm: false });
    await until(async () => !(await children(api.imagesTree)).some((r) => labelOf(r) === "<none>" || labelOf(r) === "dockertest"), "the dangling image pruned", 30_000);

    // run -it in a terminal: keys in, output out, the exit code on close, the container removed.
    const closed = new Promise<vscode.Terminal>((resolve) => vscode.window.onDidCloseTerminal((t) => t.name === "busybox:latest (run)" && resolve(t)));
    await vscode.commands.executeCommand("hangar.image.runInteractive", "busybox:latest");
    const runPty = () => api.dockerTerminals().ptys.find((p) => p.title === "busybox:latest (run)");
    await until(
      () => /\/ # /.test(runPty()?.transcript ?? ""),
      () => `a prompt: ${JSON.stringify(runPty()?.transcript)}`,
      60_000,
    );
    vscode.window.terminals.find((t) => t.name === "busybox:latest (run)")!.sendText("echo $((7*6)); exit 7");
    const terminal = await Promise.race([
      closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the run terminal did not close: ${JSON.stringify(runPty()?.transcript)}`)), 60_000)),
    ]);
    assert.equal(terminal.exitStatus?.code, 7);
    await until(async () => (await children(api.containersTree)).length === 0, "the --rm container gone", 30_000);
  });

  it("Push… and Pull Image… through a real registry, and Add Box from Registry… in the Boxes view", async () => {
    const reg = await startRegistry();
    try {
      const name = `${reg.domain}/vscode/bb`;
      assert.equal(await vscode.commands.executeCommand("hangar.image.tag", "busybox:latest", `${name}:1`), `${name}:1`);
      const pushed = await vscode.commands.executeCommand<string[]>("hangar.image.push", `${name}:1`);
      assert.ok(
        pushed.some((l) => /^1: digest: sha256:[0-9a-f]{64}/.test(l)),
        pushed.join("\n"),
      );
      assert.equal(await vscode.commands.executeCommand("hangar.image.remove", `${name}:1`, { confirm: false }), true);
      await until(async () => !(await children(api.imagesTree)).some((r) => labelOf(r) === name), "the pushed tag removed", 30_000);
      const pulled = await vscode.commands.executeCommand<string[]>("hangar.image.pull", `${name}:1`);
      assert.ok(
        pulled.some((l) => l.startsWith("Digest: sha256:")),
        pulled.join("\n"),
      );
      await until(async () => (await children(api.imagesTree)).some((r) => labelOf(r) === name), "the pulled image in the Images view", 30_000);

      // The Registries view lists a registry added to it, its repositories and their tags; Pull on a tag pulls it.
      assert.equal(await vscode.commands.executeCommand("hangar.registries.add", reg.domain), reg.domain);
      const registryItem = (await children(api.registriesTree)).find((r) => labelOf(r) === reg.domain);
      assert.ok(registryItem, "the added registry is listed");
      const repoItem = (await children(api.registriesTree, registryItem)).find((r) => labelOf(r) === "vscode/bb");
      assert.ok(repoItem, "its repository is listed");
      const tagItems = await children(api.registriesTree, repoItem);
      assert.deepEqual(tagItems.map(labelOf), ["1"]);
      assert.equal(await vscode.commands.executeCommand("hangar.image.remove", `${name}:1`, { confirm: false }), true);
      await vscode.commands.executeCommand("hangar.registry.pullTag", tagItems[0]);
      await until(async () => (await children(api.imagesTree)).some((r) => labelOf(r) === name), "the image pulled from the Registries view", 30_000);
      await vscode.workspace.getConfiguration("hangar").update("registries", undefined, vscode.ConfigurationTarget.Global);

      // A box pushed with the CLI comes back from the Boxes view's command (under another name: the engine runs from the original).
      const [, box] = /^(\S+)\s+\(embedded/m.exec(await hangarCli(boxHome!, ["box", "list"])) ?? [];
      await hangarCli(boxHome!, ["box", "push", box, `${reg.domain}/boxes/shared:1`]);
      const added = await vscode.commands.executeCommand<{ name: string }>("hangar.box.pull", `${reg.domain}/boxes/shared:1`, "vscode/pulled");
      assert.equal(added.name, "vscode/pulled");
      await until(async () => (await children(api.boxesTree)).some((b) => labelOf(b).includes("vscode/pulled")), "the pulled box in the Boxes view", 30_000);
      await hangarCli(boxHome!, ["box", "remove", "vscode/pulled"]);
      await vscode.commands.executeCommand("hangar.image.remove", `${name}:1`, { confirm: false });
    } finally {
      await reg.stop();
    }
  });

  it("warns on a FROM image the embedded engine lacks, with build and load quick fixes", async () => {
    const file = vscode.Uri.joinPath(folder, "Dockerfile.missing");
    await fs.writeFile(file.fsPath, "FROM busybox:latest AS base\nFROM not-built-here:1\nFROM base\n");
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    let found: vscode.Diagnostic[] = [];
    await until(
      () => {
        found = vscode.languages.getDiagnostics(file).filter((d) => d.code === "hangar.missingImage");
        return found.length > 0;
      },
      () => `the missing-image warning (have ${JSON.stringify(vscode.languages.getDiagnostics(file).map((d) => d.message))})`,
      30_000,
    );
    assert.deepEqual(
      found.map((d) => [d.range.start.line, doc.getText(d.range)]),
      [[1, "not-built-here:1"]],
    );
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>("vscode.executeCodeActionProvider", file, found[0].range)) ?? [];
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes("Build not-built-here:1 from a Dockerfile…") && titles.includes("Load not-built-here:1 from an image archive…"), titles.join(" | "));
  });

  it("lists a second endpoint's images (another engine on another socket, directly and over ssh://) and shows it lost when it stops", async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-second-engine-"));
    const socket = path.join(home, "docker.sock");
    let sshd: OpenSshServer | undefined;
    try {
      await fs.cp(SHARED_CACHE, path.join(home, "cache"), { recursive: true }).catch(() => undefined);
      await hangarCli(home, ["engine", "start", "--memory", "128"]);
      // An image only the second engine has: busybox is made from the cached Debian package, then tagged.
      assert.equal(await apiPost(socket, "/images/create?fromImage=busybox&tag=latest"), 200);
      assert.equal(await apiPost(socket, "/images/busybox:latest/tag?repo=only-on-second&tag=v1"), 201);
      // The same engine also behind a real OpenSSH server: ssh:// runs `docker system dial-stdio` there, as the docker CLI does.
      assert.ok(sshdInstalled(), `${SSHD} is missing: .ci/run installs openssh-server`);
      const keys = path.join(home, "ssh");
      await fs.mkdir(keys, { recursive: true, mode: 0o700 });
      await makeKey(path.join(keys, "client_key"));
      sshd = await OpenSshServer.start({ dir: keys, authorizedKeys: await fs.readFile(path.join(keys, "client_key.pub"), "utf8"), env: { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: keys } });
      await vscode.workspace.getConfiguration("hangar").update(
        "docker.endpoints",
        [
          { name: "second", host: `unix://${socket}` },
          { name: "second over ssh", host: `ssh://${os.userInfo().username}@127.0.0.1:${sshd.port}`, identityFile: path.join(keys, "client_key") },
        ],
        vscode.ConfigurationTarget.Global,
      );
      let repos: vscode.TreeItem[] = [];
      for (const id of ["setting:second over ssh", "setting:second"]) {
        assert.equal(await vscode.commands.executeCommand("hangar.docker.selectEndpoint", id), id);
        await until(
          async () => {
            repos = await children(api.imagesTree);
            return repos.some((r) => labelOf(r) === "only-on-second");
          },
          () => `only-on-second in the Images view through ${id} (have ${repos.map((r) => `${labelOf(r)} ${r.description ?? ""}`).join(", ")})`,
          30_000,
        );
        assert.ok(!repos.some((r) => labelOf(r) === "dockertest"), "the embedded engine's images are not shown for the second endpoint");
        if (id.includes("ssh")) {
          assert.match(sshd.log, /Accepted publickey for /);
          if (uiBridgeAvailable) {
            await waitForText(`${SIDEBAR} .monaco-list-row`, (t) => t.some((r) => r.includes("only-on-second")), 30_000);
            await screenshot("hangar-ssh-endpoint", SIDEBAR);
          }
        }
      }
      // The endpoint goes away: the views say so in one line instead of failing.
      await hangarCli(home, ["engine", "stop"]);
      await until(
        async () => {
          repos = await children(api.imagesTree);
          return repos.length === 1 && labelOf(repos[0]) === "Cannot reach second";
        },
        () => `the lost-endpoint item (have ${repos.map((r) => `${labelOf(r)}: ${r.description}`).join(", ")})`,
        30_000,
      );
      assert.match(String(repos[0].description), /socket/);
      if (uiBridgeAvailable) {
        await waitForText(`${SIDEBAR} .monaco-list-row`, (t) => t.filter((r) => r.includes("Cannot reach second")).length === 2, 30_000);
        await screenshot("hangar-endpoint-lost", SIDEBAR);
        await screenshot("hangar-endpoint-lost-window");
      }
    } finally {
      await vscode.commands.executeCommand("hangar.docker.selectEndpoint", "embedded");
      await vscode.workspace.getConfiguration("hangar").update("docker.endpoints", undefined, vscode.ConfigurationTarget.Global);
      await hangarCli(home, ["engine", "stop"]).catch(() => undefined);
      await sshd?.stop();
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
