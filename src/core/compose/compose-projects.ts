// Compose projects as the Engine API shows them: Compose (v1 and v2 alike)
// labels every container it makes with its project and service, and where
// the project's files were. Nothing else marks a project.
import type { ContainerInfo } from "dockerode";
import * as path from "node:path";

export const COMPOSE_LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  containerNumber: "com.docker.compose.container-number",
} as const;

type Labelled = Pick<ContainerInfo, "Labels">;

export interface ComposeProject {
  name: string;
  /** From the labels: container data, so a claim (an image can carry these labels too), not a fact. */
  workingDir?: string;
  /** Absolute paths (relative ones in the label are taken from workingDir), as the labels say. */
  configFiles: string[];
  /** By service, then container number. */
  containers: ContainerInfo[];
}

export function composeProjectName(c: Labelled): string | undefined {
  const name = c.Labels?.[COMPOSE_LABELS.project];
  return name ? name : undefined;
}

export function composeServiceName(c: Labelled): string | undefined {
  const name = c.Labels?.[COMPOSE_LABELS.service];
  return name ? name : undefined;
}

/** Where a project's files were, from one container's labels (config_files is comma-separated). */
export function composeProjectFiles(c: Labelled): { workingDir?: string; configFiles: string[] } {
  const workingDir = c.Labels?.[COMPOSE_LABELS.workingDir] || undefined;
  const configFiles = (c.Labels?.[COMPOSE_LABELS.configFiles] ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => (path.isAbsolute(f) || !workingDir ? f : path.resolve(workingDir, f)));
  return { ...(workingDir ? { workingDir } : {}), configFiles };
}

/**
 * Splits a container listing into Compose projects (by the project label,
 * sorted by name) and the containers of no project, in their given order.
 */
export function splitComposeProjects(containers: ContainerInfo[]): { projects: ComposeProject[]; others: ContainerInfo[] } {
  const byName = new Map<string, ContainerInfo[]>();
  const others: ContainerInfo[] = [];
  for (const c of containers) {
    const name = composeProjectName(c);
    if (name) byName.set(name, [...(byName.get(name) ?? []), c]);
    else others.push(c);
  }
  const number = (c: ContainerInfo): number => Number(c.Labels?.[COMPOSE_LABELS.containerNumber] ?? 0) || 0;
  const projects = [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const sorted = list.sort((a, b) => (composeServiceName(a) ?? "").localeCompare(composeServiceName(b) ?? "") || number(a) - number(b));
      // The labels of the first container that has them: one project has one set of files.
      const files = sorted.map(composeProjectFiles).find((f) => f.workingDir || f.configFiles.length) ?? { configFiles: [] };
      return { name, ...files, containers: sorted };
    });
  return { projects, others };
}
