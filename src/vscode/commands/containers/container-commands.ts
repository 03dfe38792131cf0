import * as vscode from "vscode";
import { browsablePorts } from "../../../core/docker/listing/container-groups";
import { HangarError } from "../../../core/util/errors";
import type { HangarContext } from "../../hangar-context";
import { containerFileUri } from "../../files/container-files";
import { containerTarget, withDockerProgress, type ContainerTarget } from "../docker/docker-targets";
import type { HangarCommand } from "../hangar-command";

export const refreshContainers: HangarCommand = {
  id: "hangar.containers.refresh",
  run: ({ trees }) => trees.containers.refresh(),
};

type Action = (c: import("dockerode").Container, signal: AbortSignal) => Promise<unknown>;

/** A lifecycle action with a cancellable notification; the view follows from the engine's events. */
function lifecycle(id: string, verb: string, states: string[] | undefined, action: Action): HangarCommand {
  return {
    id,
    async run({ hangar }, arg?: unknown) {
      const target = await containerTarget(hangar, arg, `${verb} which container?`, states);
      await withDockerProgress(`${verb} ${target.name}`, (signal) => hangar.docker.use(`${verb} ${target.name}`, (d) => action(d.getContainer(target.id), signal)));
      return target.id;
    },
  };
}

export const startContainer = lifecycle("hangar.container.start", "Starting", ["created", "exited", "dead"], (c, signal) => c.start({ abortSignal: signal }));
export const stopContainer = lifecycle("hangar.container.stop", "Stopping", ["running", "restarting", "paused"], (c, signal) => c.stop({ abortSignal: signal }));
export const restartContainer = lifecycle("hangar.container.restart", "Restarting", undefined, (c, signal) => c.restart({ abortSignal: signal }));
export const pauseContainer = lifecycle("hangar.container.pause", "Pausing", ["running"], (c, signal) => c.pause({ abortSignal: signal }));
export const unpauseContainer = lifecycle("hangar.container.unpause", "Resuming", ["paused"], (c, signal) => c.unpause({ abortSignal: signal }));

/** Removes a container after a confirmation (a running one is killed: the dialog says so). */
export const removeContainer: HangarCommand = {
  id: "hangar.container.remove",
  async run({ hangar }, arg?: unknown, options?: unknown) {
    const target = await containerTarget(hangar, arg, "Remove which container?");
    const state = target.info?.State ?? ((await hangar.docker.use(`Inspecting ${target.name}`, (d) => d.getContainer(target.id).inspect())) as { State: { Status: string } }).State.Status;
    const running = state === "running" || state === "paused" || state === "restarting";
    if ((options as { confirm?: boolean } | undefined)?.confirm !== false) {
      const choice = await vscode.window.showWarningMessage(
        `Remove container ${target.name}?`,
        { modal: true, detail: running ? "It is running: it will be killed, and its writable layer deleted." : "Its writable layer is deleted; named volumes are kept." },
        "Remove",
      );
      if (choice !== "Remove") return false;
    }
    await hangar.docker.use(`Removing ${target.name}`, (d) => d.getContainer(target.id).remove({ force: running }));
    return true;
  },
};

export const containerLogs: HangarCommand = {
  id: "hangar.container.logs",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Show the logs of which container?");
    hangar.dockerTerminals.logs(target.id, target.name);
    return target.id;
  },
};

export const containerShell: HangarCommand = {
  id: "hangar.container.shell",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Open a shell in which container?", ["running"]);
    hangar.dockerTerminals.shell(target.id, target.name);
    return target.id;
  },
};

export const inspectContainer: HangarCommand = {
  id: "hangar.container.inspect",
  async run({ hangar }, arg?: unknown) {
    const target = await containerTarget(hangar, arg, "Inspect which container?");
    const info = await hangar.docker.use(`Inspecting ${target.name}`, (d) => d.getContainer(target.id).inspect());
    await hangar.inspectDocuments.show("container", target.name, info);
  },
};

async function copy(hangar: HangarContext, text: string, what: string): Promise<string> {
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied ${what}: ${text}`, 3000);
  hangar.log.info(`Copied ${what}: ${text}`);
  return text;
}

export const copyContainerId: HangarCommand = {
  id: "hangar.container.copyId",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the ID of which container?");
    return copy(hangar, t.id, `the ID of ${t.name}`);
  },
};

export const copyContainerName: HangarCommand = {
  id: "hangar.container.copyName",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the name of which container?");
    return copy(hangar, t.name, "the container name");
  },
};

export const copyContainerIp: HangarCommand = {
  id: "hangar.container.copyIp",
  async run({ hangar }, arg?: unknown) {
    const t = await containerTarget(hangar, arg, "Copy the IP address of which container?", ["running", "paused"]);
    const info = (await hangar.docker.use(`Inspecting ${t.name}`, (d) => d.getContainer(t.id).inspect())) as { NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> } };
    const ips = [info.NetworkSettings?.IPAddress, ...Object.values(info.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress)].filter((ip): ip is string => !!ip);
    if (!ips.length) throw new HangarError(`${t.name} has no IP address (is it on network "none", or stopped?).`);
    return copy(hangar, ips[0], `the IP address of ${t.name}`);
  },
};

/** Opens a published TCP port in the browser (a picker when there are several). */
export const openContainerPort: HangarCommand = {
  id: "hangar.container.openPort",
  async run({ hangar }, arg?: unknown) {
    const t: ContainerTarget = await containerTarget(hangar, arg, "Open a port of which container?", ["running"]);
    const info = t.info ?? (await hangar.docker.use("Listing containers", (d) => d.listContainers({ all: true, filters: { id: [t.id] } })))[0];
    const ports = browsablePorts(info?.Ports ?? []);
    if (!ports.length) throw new HangarError(`${t.name} publishes no TCP port.`, "Run it with ports published (-p or -P) to open one in a browser.");
    const choice = ports.length === 1 ? ports[0] : await vscode.window.showQuickPick(ports.map((p) => ({ ...p, label: p.label })), { placeHolder: `Open which port of ${t.name}?` });
    if (!choice) return undefined;
    await vscode.env.openExternal(vscode.Uri.parse(choice.url));
    return choice.url;
  },
};

/** Opens a file of a container (read-only) from a file dialog over its file system, or the path given. */
export const browseContainerFiles: HangarCommand = {
  id: "hangar.container.browseFiles",
  async run({ hangar }, arg?: unknown, file?: unknown) {
    const t = await containerTarget(hangar, arg, "Browse the files of which container?");
    const uri = containerFileUri(t.id, typeof file === "string" ? file : "/");
    if (typeof file === "string") {
      await vscode.window.showTextDocument(uri, { preview: true });
      return uri.toString();
    }
    const picked = await vscode.window.showOpenDialog({ defaultUri: uri, canSelectFiles: true, canSelectFolders: false, title: `Files of ${t.name} (read-only)`, openLabel: "Open" });
    if (picked?.[0]) await vscode.window.showTextDocument(picked[0], { preview: true });
    return picked?.[0]?.toString();
  },
};
