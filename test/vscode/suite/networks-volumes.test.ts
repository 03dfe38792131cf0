import * as assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import type { HangarApi } from "../../../src/extension";
import { activateHangar, boxHome, children, labelOf, resetEngineHome, until, useEngineHome } from "./helpers";
import { EXPANDED_AT_FIRST, paneOf, screenshot, showOnly, uiBridgeAvailable, waitForRows, waitForText } from "./ui-bridge";

const TOASTS = ".notifications-toasts .notification-list-item-message";
const run = promisify(execFile);
const DOCKERD = "/usr/sbin/dockerd";

/** The real docker CLI against an engine's socket: what a user would type, here to set up what the views must show. */
async function docker(socket: string, args: string[]): Promise<string> {
  const { stdout } = await run("docker", ["-H", `unix://${socket}`, ...args], { timeout: 120_000 });
  return stdout.trim();
}

const describe_ = (items: vscode.TreeItem[]): string => items.map((i) => `${labelOf(i)} (${String(i.description ?? "")})`).join(", ");

describe("Networks, Volumes and Contexts views", function () {
  this.timeout(180_000);
  let api: HangarApi;
  let socket = "";
  const net = `nv-net-${process.pid}`;
  const vol = `nv-vol-${process.pid}`;
  const spare = `nv-spare-${process.pid}`;
  const container = `nv-web-${process.pid}`;

  before(async function () {
    if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
    await useEngineHome();
    socket = path.join(boxHome, "docker.sock");
    api = await activateHangar();
  });

  after(async () => {
    if (!boxHome) return;
    if (uiBridgeAvailable) await showOnly(EXPANDED_AT_FIRST).catch(() => undefined);
    await docker(socket, ["rm", "-f", container]).catch(() => undefined);
    await docker(socket, ["network", "rm", net]).catch(() => undefined);
    await docker(socket, ["volume", "rm", "-f", vol, spare]).catch(() => undefined);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await resetEngineHome();
  });

  it("creates, shows, inspects, refuses and prunes networks and volumes of the embedded engine (screenshots)", async () => {
    await vscode.commands.executeCommand("hangar.networks.focus");
    // Bad input changes nothing: the wrapper reports the error, no network is made.
    assert.equal(await vscode.commands.executeCommand("hangar.network.create", "no spaces allowed", "bridge"), undefined);
    assert.match((await vscode.commands.executeCommand<string>("hangar.network.create", net, "bridge")) ?? "", /^[0-9a-f]{12,64}$/);
    assert.equal(await vscode.commands.executeCommand("hangar.volume.create", vol), vol);
    assert.equal(await vscode.commands.executeCommand("hangar.volume.create", spare), spare);
    assert.ok(!(await docker(socket, ["network", "ls", "--format", "{{.Name}}"])).split("\n").includes("no spaces allowed"));

    // A container on the network with the volume mounted, made by the real docker CLI: both views follow the engine's events.
    await docker(socket, ["run", "-d", "--name", container, "--network", net, "-v", `${vol}:/data`, "busybox", "sleep", "600"]);
    let nets: vscode.TreeItem[] = [];
    let members: vscode.TreeItem[] = [];
    await until(
      async () => {
        nets = await children(api.networksTree);
        const item = nets.find((n) => labelOf(n) === net);
        members = item ? await children(api.networksTree, item) : [];
        return members.some((m) => labelOf(m) === container && /^172\.\d+\.\d+\.\d+ · running$/.test(String(m.description)));
      },
      () => `${container} running under ${net} (networks: ${describe_(nets)}; members: ${describe_(members)})`,
      60_000,
    );
    const netItem = nets.find((n) => labelOf(n) === net)!;
    assert.match(String(netItem.description), /^bridge · local · 172\.\d+\.0\.0\/16 · 1 container$/);
    assert.equal(netItem.contextValue, "network");
    assert.equal(nets.find((n) => labelOf(n) === "bridge")?.contextValue, "network.predefined");

    let vols: vscode.TreeItem[] = [];
    await until(
      async () => {
        vols = await children(api.volumesTree);
        return vols.some((v) => labelOf(v) === vol && v.description === "local · 1 container") && vols.some((v) => labelOf(v) === spare && v.description === "local · unused");
      },
      () => `${vol} used by ${container} and ${spare} unused (volumes: ${describe_(vols)})`,
      30_000,
    );
    const volItem = vols.find((v) => labelOf(v) === vol)!;
    assert.equal(volItem.contextValue, "volume.inUse");
    assert.deepEqual(
      (await children(api.volumesTree, volItem)).map((c) => [labelOf(c), c.description]),
      [[container, "/data · running"]],
    );

    // Inspect: the API's JSON, read-only.
    await vscode.commands.executeCommand("hangar.network.inspect", netItem);
    let doc = vscode.window.activeTextEditor!.document;
    assert.equal(doc.uri.scheme, "hangar-inspect");
    const inspected = JSON.parse(doc.getText()) as { Name: string; Containers: Record<string, { Name: string }> };
    assert.equal(inspected.Name, net);
    assert.deepEqual(
      Object.values(inspected.Containers).map((c) => c.Name),
      [container],
    );
    await vscode.commands.executeCommand("hangar.volume.inspect", volItem);
    doc = vscode.window.activeTextEditor!.document;
    assert.equal((JSON.parse(doc.getText()) as { Name: string }).Name, vol);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");

    if (uiBridgeAvailable) {
      const shown = ["Networks", "Volumes"];
      const rows = await waitForRows("Networks", shown, (t) => t.some((r) => r.includes(net)) && t.some((r) => r.includes(container)));
      assert.ok(
        rows.some((r) => /bridge · local/.test(r)),
        JSON.stringify(rows),
      );
      console.log(`    screenshot: ${await screenshot("hangar-networks", paneOf("Networks"))}`);
      await waitForRows("Volumes", shown, (t) => t.some((r) => r.includes(container)) && t.some((r) => r.includes(spare)));
      console.log(`    screenshot: ${await screenshot("hangar-volumes", paneOf("Volumes"))}`);
      await screenshot("hangar-networks-volumes-window");
    }

    // Removing what a container uses is refused, naming the container; nothing changes.
    assert.equal(await vscode.commands.executeCommand("hangar.volume.remove", vol, { confirm: false }), undefined);
    assert.equal(await vscode.commands.executeCommand("hangar.network.remove", net, { confirm: false }), undefined);
    if (uiBridgeAvailable) {
      const toasts = await waitForText(
        TOASTS,
        (t) =>
          t.some((x) => x.includes('"no spaces allowed" is not a valid network name')) &&
          t.some((x) => x.includes(`Volume ${vol} is in use by container ${container}`)) &&
          t.some((x) => x.includes(`Network ${net} is in use by container ${container}`)),
      );
      assert.ok(
        toasts.some((x) => x.includes("Remove those containers first")),
        JSON.stringify(toasts),
      );
      await vscode.commands.executeCommand("notifications.clearAll");
    }
    assert.ok((await docker(socket, ["volume", "ls", "-q"])).split("\n").includes(vol));

    // Prune takes the unused volume and leaves the used one and its network; once the container is gone, both go.
    // (Other suites may have left unused volumes and networks in this engine: prune takes those too.)
    const prunedVolumes = (await vscode.commands.executeCommand<string[]>("hangar.volumes.prune", { confirm: false })) ?? [];
    assert.ok(prunedVolumes.includes(spare) && !prunedVolumes.includes(vol), `pruned ${prunedVolumes.join(", ")}`);
    assert.ok(!((await vscode.commands.executeCommand<string[]>("hangar.networks.prune", { confirm: false })) ?? []).includes(net), `${net} is in use`);
    await docker(socket, ["rm", "-f", container]);
    await until(async () => (await children(api.volumesTree)).some((v) => labelOf(v) === vol && v.description === "local · unused"), `${vol} unused`, 30_000);
    assert.ok(((await vscode.commands.executeCommand<string[]>("hangar.networks.prune", { confirm: false })) ?? []).includes(net), `${net} pruned`);
    assert.equal(await vscode.commands.executeCommand("hangar.volume.remove", vol, { confirm: false }), true);
    await until(
      async () => {
        nets = await children(api.networksTree);
        vols = await children(api.volumesTree);
        return !nets.some((n) => labelOf(n) === net) && !vols.some((v) => [vol, spare].includes(labelOf(v)));
      },
      () => `${net}, ${vol} and ${spare} gone (networks: ${describe_(nets)}; volumes: ${describe_(vols)})`,
      30_000,
    );
  });

  it("lists the endpoints in Contexts and follows a real Docker Engine (dockerd) chosen there", async function () {
    if (process.getuid?.() !== 0) return this.skip(); // dockerd needs root: this test runs where CI runs, as root
    if (!existsSync(DOCKERD)) throw new Error(`${DOCKERD} is missing: .ci/run installs Debian's docker.io`);
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-dockerd-"));
    // exec-root holds containerd's sockets, whose paths must stay short.
    const execRoot = await fs.mkdtemp("/tmp/hd-");
    const realSocket = path.join(tmp, "docker.sock");
    let dockerd: ChildProcess | undefined;
    let log = "";
    try {
      dockerd = spawn(
        DOCKERD,
        [
          "--host",
          `unix://${realSocket}`,
          "--data-root",
          path.join(tmp, "data"),
          "--exec-root",
          execRoot,
          "--pidfile",
          path.join(tmp, "docker.pid"),
          "--storage-driver",
          "vfs",
          "--iptables=false",
          "--bridge=none",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      for (const s of [dockerd.stdout!, dockerd.stderr!]) s.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
      await until(
        () =>
          docker(realSocket, ["version", "--format", "{{.Server.Version}}"]).then(
            () => true,
            () => false,
          ),
        () => `dockerd to answer (log: ${log})`,
        30_000,
      );
      await docker(realSocket, ["network", "create", "real-net"]);
      await docker(realSocket, ["volume", "create", "real-vol"]);
      // An image (the host's static busybox, imported: dockerd runs amd64 only) and a container of it: the Images and
      // Containers views follow the chosen endpoint too.
      const rootfs = path.join(tmp, "rootfs");
      await fs.mkdir(path.join(rootfs, "bin"), { recursive: true });
      await fs.copyFile("/bin/busybox", path.join(rootfs, "bin", "busybox"));
      await promisify(execFile)("tar", ["-C", rootfs, "-cf", path.join(tmp, "rootfs.tar"), "bin"]);
      await docker(realSocket, ["import", path.join(tmp, "rootfs.tar"), "real-img:1"]);
      const realContainer = (await docker(realSocket, ["create", "--name", "real-c", "real-img:1", "/bin/busybox", "true"])).trim();

      await vscode.workspace.getConfiguration("hangar").update("docker.endpoints", [{ name: "real dockerd", host: `unix://${realSocket}` }], vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand("hangar.contexts.focus");
      let contexts: vscode.TreeItem[] = [];
      await until(
        async () => {
          contexts = await children(api.contextsTree);
          return contexts.some((c) => labelOf(c) === "real dockerd");
        },
        () => `the setting's endpoint in Contexts (have ${describe_(contexts)})`,
      );
      assert.equal(labelOf(contexts[0]), "Hangar (embedded)");
      assert.equal(contexts[0].contextValue, "dockerContext.current");
      const real = contexts.find((c) => labelOf(c) === "real dockerd")!;
      assert.equal(real.contextValue, "dockerContext");
      assert.deepEqual(real.command?.arguments, ["setting:real dockerd"]);
      // What a click on it runs.
      assert.equal(await vscode.commands.executeCommand(real.command!.command, ...real.command!.arguments!), "setting:real dockerd");

      let nets: vscode.TreeItem[] = [];
      let vols: vscode.TreeItem[] = [];
      await until(
        async () => {
          nets = await children(api.networksTree);
          vols = await children(api.volumesTree);
          contexts = await children(api.contextsTree);
          const current = contexts.find((c) => labelOf(c) === "real dockerd");
          return (
            nets.some((n) => labelOf(n) === "real-net") &&
            vols.some((v) => labelOf(v) === "real-vol") &&
            current?.contextValue === "dockerContext.current" &&
            /connected/.test(String(current.description))
          );
        },
        () =>
          `real-net and real-vol in the views, real dockerd current and connected (networks: ${describe_(nets)}; volumes: ${describe_(vols)}; contexts: ${describe_(contexts)}: ${contexts
            .map((c) => (c.tooltip as vscode.MarkdownString | undefined)?.value)
            .join(" | ")})`,
        30_000,
      );
      // Every container item, under whichever group (state, compose project) the view puts it.
      const containerIds = async (): Promise<string[]> => {
        const ids: string[] = [];
        for (const item of await children(api.containersTree)) {
          ids.push(String(item.id));
          if (item.collapsibleState !== vscode.TreeItemCollapsibleState.None) ids.push(...(await children(api.containersTree, item)).map((c) => String(c.id)));
        }
        return ids;
      };
      let repos: string[] = [];
      let ids: string[] = [];
      await until(
        async () => {
          repos = (await children(api.imagesTree)).map(labelOf);
          ids = await containerIds();
          return repos.includes("real-img") && ids.includes(`container:${realContainer}`);
        },
        () => `real-img in Images and real-c in Containers (images: ${repos.join(", ")}; containers: ${ids.join(", ")})`,
        30_000,
      );
      // dockerd's only image: nothing of the embedded engine's (its busybox) is shown.
      assert.deepEqual(repos, ["real-img"]);
      // dockerd's own networks (host, none: --bridge=none), not the embedded engine's bridge.
      assert.deepEqual(nets.map(labelOf), ["host", "none", "real-net"]);
      assert.match(String(nets.find((n) => labelOf(n) === "real-net")!.description), /^bridge · local/);
      assert.deepEqual(vols.map(labelOf), ["real-vol"]);
      assert.match(String(contexts.find((c) => labelOf(c) === "real dockerd")!.description), /^current · connected · 20\.10/);
      if (uiBridgeAvailable) {
        const shown = ["Networks", "Contexts"];
        await waitForRows("Contexts", shown, (t) => t.some((r) => /real dockerd.*current/.test(r)));
        console.log(`    screenshot: ${await screenshot("hangar-contexts", paneOf("Contexts"))}`);
        await waitForRows("Networks", shown, (t) => t.some((r) => r.includes("real-net")));
        console.log(`    screenshot: ${await screenshot("hangar-networks-dockerd", paneOf("Networks"))}`);
      }

      // Through the views' commands too: removed on the real engine, gone from the view.
      assert.equal(await vscode.commands.executeCommand("hangar.network.remove", "real-net", { confirm: false }), true);
      assert.deepEqual(await vscode.commands.executeCommand("hangar.volumes.prune", { confirm: false }), ["real-vol"]);
      assert.equal(await docker(realSocket, ["network", "ls", "-q", "--filter", "name=real-net"]), "");
      await until(async () => !(await children(api.networksTree)).some((n) => labelOf(n) === "real-net"), "real-net gone from the view", 30_000);
    } finally {
      await vscode.commands.executeCommand("hangar.context.use", "embedded");
      await vscode.workspace.getConfiguration("hangar").update("docker.endpoints", undefined, vscode.ConfigurationTarget.Global);
      if (dockerd && dockerd.exitCode === null) {
        const exited = new Promise((resolve) => dockerd!.once("exit", resolve));
        dockerd.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (dockerd.exitCode === null) dockerd.kill("SIGKILL");
      }
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      await fs.rm(execRoot, { recursive: true, force: true }).catch(() => undefined);
    }
  });
});
