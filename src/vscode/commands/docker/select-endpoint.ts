import * as vscode from "vscode";
import type { DockerEndpoint } from "../../../core/docker/endpoints/docker-endpoint";
import type { HangarCommand } from "../hangar-command";

export const SOURCE_LABEL: Record<DockerEndpoint["source"], string> = {
  embedded: "built in",
  environment: "DOCKER_HOST",
  local: "local socket",
  context: "Docker context",
  setting: "hangar.docker.endpoints",
};

/** Chooses the Docker endpoint the Images and Containers views show. An argument (endpoint id) skips the picker. */
export const selectEndpoint: HangarCommand = {
  id: "hangar.docker.selectEndpoint",
  async run({ hangar }, arg?: unknown) {
    const all = await hangar.docker.endpoints();
    const current = await hangar.docker.endpoint();
    let chosen: DockerEndpoint | undefined;
    if (typeof arg === "string") {
      chosen = all.find((e) => e.id === arg || e.name === arg);
      if (!chosen) throw new Error(`There is no Docker endpoint '${arg}'. Known: ${all.map((e) => e.id).join(", ")}.`);
    } else {
      const pick = await vscode.window.showQuickPick(
        [
          ...all.map((e) => ({ label: `${e.id === current.id ? "$(check) " : ""}${e.name}`, description: e.host, detail: SOURCE_LABEL[e.source], e })),
          { label: "$(gear) Add an endpoint in settings…", description: "hangar.docker.endpoints", e: undefined },
        ],
        { placeHolder: "Docker endpoint for the Images and Containers views" },
      );
      if (!pick) return undefined;
      if (!pick.e) return vscode.commands.executeCommand("workbench.action.openSettings", "hangar.docker.endpoints");
      chosen = pick.e;
    }
    await hangar.docker.select(chosen);
    hangar.log.info(`Docker endpoint: ${chosen.name} (${chosen.host}).`);
    return chosen.id;
  },
};
