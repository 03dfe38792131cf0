// Compose in the real VS Code: the dockercompose language (Microsoft's
// compose language server behind it), and the Compose commands running the
// real docker-compose (Debian's; `docker compose` where installed) against
// the embedded engine, with the project grouped in the Containers view.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { promisify } from "node:util";
import * as vscode from "vscode";
import type { HangarApi } from "../../../src/extension";
import { dockerHost, engineSocket } from "../../../src/core/api/engine-socket";
import { activateHangar, boxHome, children, labelOf, resetEngineHome, until, useEngineHome, workspaceFile, workspaceRoot } from "./helpers";
import { screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

const SIDEBAR = ".part.sidebar";
const run = promisify(execFile);

const hoverText = (hovers: vscode.Hover[]): string =>
  hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === "string" ? c : c.value))
    .join("\n");

describe("Compose", function () {
  this.timeout(180_000);
  let api: HangarApi;
  let langFolder: vscode.Uri;

  before(async () => {
    api = await activateHangar();
    langFolder = vscode.Uri.joinPath(workspaceRoot(), "composelang");
    await fs.mkdir(langFolder.fsPath, { recursive: true });
  });

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await fs.rm(langFolder.fsPath, { recursive: true, force: true });
  });

  it("recognises Compose files, with completion, hover and diagnostics from the compose language server, and the Compose lens", async () => {
    const file = vscode.Uri.joinPath(langFolder, "compose.yaml");
    await fs.writeFile(file.fsPath, ["services:", "  web:", "    image: busybox", "    ", "volumes:", "  data:", ""].join("\n"));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, "dockercompose");

    // Hover on a key: the service's documentation (the server starts with the first Compose document).
    let hover = "";
    await until(
      async () => {
        hover = hoverText((await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", file, new vscode.Position(2, 6))) ?? []);
        return /image that will be pulled/i.test(hover);
      },
      () => `hover on image: (have ${JSON.stringify(hover)})`,
      30_000,
    );

    // Completion inside a service offers service keys.
    const list = await vscode.commands.executeCommand<vscode.CompletionList>("vscode.executeCompletionItemProvider", file, new vscode.Position(3, 4));
    const labels = list.items.map((i) => (typeof i.label === "string" ? i.label : i.label.label));
    for (const key of ["command", "environment", "ports"])
      assert.ok(
        labels.some((l) => l.startsWith(key)),
        `completion has ${key}: ${labels.join(", ")}`,
      );

    // The lens above the first line is Hangar's (the server's Container Tools lenses are turned off).
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", file)) ?? [];
    assert.deepEqual(
      lenses.filter((l) => l.range.start.line === 0).map((l) => l.command?.command),
      ["hangar.compose.up", "hangar.compose.down", "hangar.compose.restart", "hangar.compose.logs"],
    );
    assert.ok(!lenses.some((l) => l.command?.command.startsWith("vscode-containers.")), JSON.stringify(lenses.map((l) => l.command)));

    // Broken YAML: an error where it breaks; fixing it clears it.
    const bad = vscode.Uri.joinPath(langFolder, "docker-compose.override.yml");
    await fs.writeFile(bad.fsPath, ["services:", "  web:", "    image: busybox", "    ports: [80", "  worker: {", ""].join("\n"));
    const badDoc = await vscode.window.showTextDocument(bad);
    assert.equal(badDoc.document.languageId, "dockercompose");
    await until(() => vscode.languages.getDiagnostics(bad).some((d) => d.severity === vscode.DiagnosticSeverity.Error), "a YAML error on the broken file", 30_000);
    await badDoc.edit((e) => e.replace(new vscode.Range(0, 0, badDoc.document.lineCount, 0), "services:\n  web:\n    image: busybox\n"));
    await until(
      () => vscode.languages.getDiagnostics(bad).length === 0,
      () => `no diagnostics after the fix (have ${JSON.stringify(vscode.languages.getDiagnostics(bad).map((d) => d.message))})`,
      30_000,
    );

    // A name of the user's own (hangar.compose.filePatterns) gets the language too.
    const config = vscode.workspace.getConfiguration("hangar");
    await config.update("compose.filePatterns", ["compose.yaml", "*.stack.yml"], vscode.ConfigurationTarget.Global);
    try {
      const stack = vscode.Uri.joinPath(langFolder, "prod.stack.yml");
      await fs.writeFile(stack.fsPath, "services:\n  web:\n    image: busybox\n");
      const stackDoc = await vscode.workspace.openTextDocument(stack);
      await until(
        () => vscode.workspace.textDocuments.some((d) => d.uri.toString() === stack.toString() && d.languageId === "dockercompose"),
        () => `prod.stack.yml as dockercompose (is ${stackDoc.languageId})`,
      );
    } finally {
      await config.update("compose.filePatterns", undefined, vscode.ConfigurationTarget.Global);
    }
  });

  describe("against the embedded engine", () => {
    let folder: vscode.Uri;
    let composeFile: vscode.Uri;
    const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: dockerHost(engineSocket(boxHome!)) });
    const docker = async (args: string[]): Promise<string> => (await run("docker", args, { env: dockerEnv(), timeout: 60_000 })).stdout;
    const projectItem = async (): Promise<vscode.TreeItem | undefined> => (await children(api.containersTree)).find((g) => g.id === "compose:composetest");

    before(async function () {
      if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
      await useEngineHome();
      ({ folder, file: composeFile } = await workspaceFile("composetest", "compose.yaml", [
        "services:",
        "  web:",
        "    image: busybox",
        // (TERM ends them at once: down does not wait out its 10 s stop timeout)
        `    command: sh -c "trap 'exit 0' TERM; echo web says hello > /data/hello; cat /data/hello; sleep 600 & wait"`,
        "    volumes:",
        "      - data:/data",
        "  worker:",
        "    image: busybox",
        `    command: sh -c "trap 'exit 0' TERM; echo worker says hello; sleep 600 & wait"`,
        "    depends_on:",
        "      - web",
        "volumes:",
        "  data:",
        "",
      ]));
    });

    after(async () => {
      if (!boxHome) return;
      for (const t of vscode.window.terminals) t.dispose();
      // Whatever a failed run left (the engine itself stays for the suites after this one; the launcher stops it).
      await run("docker-compose", ["-p", "composetest", "-f", composeFile.fsPath, "down", "-v"], { env: dockerEnv(), timeout: 120_000 }).catch(() => undefined);
      await resetEngineHome();
      await fs.rm(folder.fsPath, { recursive: true, force: true });
    });

    it("Compose Up, the project grouped in the Containers view, Compose Logs, Compose Down (remove volumes) (screenshots)", async () => {
      const started = Date.now();
      await vscode.window.showTextDocument(composeFile);
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      const up = await vscode.commands.executeCommand<string>("hangar.compose.up", composeFile);
      assert.equal(typeof up, "string", "Compose Up failed (see the Hangar log)");
      console.log(`    compose up: ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // Both containers under the project node, the other containers' groups unaffected.
      let project: vscode.TreeItem | undefined;
      let services: string[] = [];
      let top: string[] = [];
      await until(
        async () => {
          top = (await children(api.containersTree)).map(labelOf);
          project = await projectItem();
          services = project ? (await children(api.containersTree, project)).map(labelOf) : [];
          return services.length === 2 && project?.contextValue === "composeProject.running";
        },
        () => `composetest with two running containers (have ${JSON.stringify(top)}; under it ${services.join(", ")})`,
        60_000,
      );
      assert.equal(labelOf(project!), "composetest");
      assert.equal(project!.description, "2 running");
      assert.ok(/^composetest[_-]web[_-]1$/.test(services[0]) && /^composetest[_-]worker[_-]1$/.test(services[1]), services.join(", "));
      for (const group of await children(api.containersTree)) {
        if (group === project || !group.id?.startsWith("containers:")) continue;
        const names = (await children(api.containersTree, group)).map(labelOf);
        assert.ok(!names.some((n) => n.startsWith("composetest")), `${labelOf(group)} holds ${names.join(", ")}`);
      }

      // Labels are container data: a project whose labels name files outside the workspace is run by name alone,
      // which docker-compose 1.x refuses (no file is read); with Compose v2 it would work by name.
      const forged = { project: { name: "composetest", workingDir: "/etc", configFiles: ["/etc/hostname"], containers: [] } };
      const byName = await vscode.commands.executeCommand<string | undefined>("hangar.compose.restart", forged);
      if (
        !/docker compose/.test(
          await run("docker", ["compose", "version"]).then(
            (r) => r.stdout,
            () => "",
          ),
        )
      )
        assert.equal(byName, undefined, "docker-compose 1.x ran with files from forged labels");

      // Logs of every service, followed in a terminal.
      await vscode.commands.executeCommand("hangar.compose.logs", project);
      const logs = () => api.dockerTerminals().ptys.find((p) => p.title === "composetest (compose logs)");
      await until(
        () => /web says hello/.test(logs()?.transcript ?? "") && /worker says hello/.test(logs()?.transcript ?? ""),
        () => `both services' output in the logs (have ${JSON.stringify(logs()?.transcript)})`,
        60_000,
      );

      if (uiBridgeAvailable) {
        await vscode.commands.executeCommand("workbench.view.extension.hangar");
        await waitForText(
          `${SIDEBAR} .monaco-list-row`,
          (rows) => rows.some((r) => r.includes("composetest") && r.includes("2 running")) && rows.some((r) => /composetest[_-]worker[_-]1/.test(r)),
          30_000,
        );
        console.log(`    screenshot: ${await screenshot("hangar-compose-project", SIDEBAR)}`);
        // The editor with the Compose lens above the first line, the logs terminal below.
        await vscode.window.showTextDocument(composeFile);
        await waitForText(".codelens-decoration", (texts) => texts.some((t) => t.includes("Compose Up") && t.includes("Logs")), 30_000);
        await screenshot("hangar-compose-window");
      }

      // Down -v: no container, no network and no volume of the project is left.
      assert.equal(typeof (await vscode.commands.executeCommand<string>("hangar.compose.downVolumes", project)), "string", "Compose Down failed (see the Hangar log)");
      assert.equal((await docker(["ps", "-a", "-q", "--filter", "label=com.docker.compose.project=composetest"])).trim(), "");
      const volumes = (await docker(["volume", "ls", "-q"])).split("\n");
      assert.ok(!volumes.some((v) => v.startsWith("composetest")), `volumes left: ${volumes.join(", ")}`);
      await until(async () => !(await projectItem()), "the project to leave the Containers view", 30_000);
      await until(() => logs()?.closed === true || /end of output/.test(logs()?.transcript ?? ""), "the logs to end with the project", 30_000);
      console.log(`    compose flow: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  });
});
