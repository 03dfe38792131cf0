import type { ContainerInfo } from "dockerode";

export type ContainerGrouping = "state" | "image";

export interface ContainerGroup {
  label: string;
  /** The state for state groups ("running", "exited", …); undefined for image groups. */
  state?: string;
  containers: ContainerInfo[];
}

/** Running first, then the states that can become running again, then the rest. */
const STATE_ORDER = ["running", "restarting", "paused", "created", "exited", "removing", "dead"];
const STATE_LABEL: Record<string, string> = { running: "Running", restarting: "Restarting", paused: "Paused", created: "Created", exited: "Exited", removing: "Removing", dead: "Dead" };

/**
 * Groups GET /containers/json?all=1 by state (running first) or by image,
 * containers within a group by name.
 */
export function groupContainers(containers: ContainerInfo[], by: ContainerGrouping): ContainerGroup[] {
  const groups = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    const key = by === "state" ? c.State || "unknown" : c.Image;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const rank = (state: string): number => (STATE_ORDER.includes(state) ? STATE_ORDER.indexOf(state) : STATE_ORDER.length);
  return [...groups.entries()]
    .sort(([a], [b]) => (by === "state" ? rank(a) - rank(b) : 0) || a.localeCompare(b))
    .map(([key, list]) => ({
      label: by === "state" ? (STATE_LABEL[key] ?? key) : key,
      ...(by === "state" ? { state: key } : {}),
      containers: list.sort((a, b) => containerName(a).localeCompare(containerName(b))),
    }));
}

/** The container's name without docker's leading "/". */
export function containerName(c: Pick<ContainerInfo, "Names" | "Id">): string {
  return (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, "");
}

/** Published ports as `docker ps` prints them: "127.0.0.1:8080->80/tcp". Unpublished ones only when nothing is published. */
export function describePorts(ports: ContainerInfo["Ports"]): string {
  const published = ports.filter((p) => p.PublicPort);
  const seen = new Set<string>();
  const parts = (published.length ? published : ports)
    .map((p) =>
      p.PublicPort
        ? `${p.IP && p.IP !== "0.0.0.0" && p.IP !== "::" ? (p.IP.includes(":") ? `[${p.IP}]` : p.IP) : "0.0.0.0"}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`
        : `${p.PrivatePort}/${p.Type}`,
    )
    .filter((s) => !seen.has(s) && seen.add(s));
  return parts.join(", ");
}

/** Host ports a browser can open (TCP, published), with the address to use. */
export function browsablePorts(ports: ContainerInfo["Ports"]): Array<{ url: string; label: string }> {
  const out = new Map<string, { url: string; label: string }>();
  for (const p of ports) {
    if (!p.PublicPort || p.Type !== "tcp") continue;
    const host = !p.IP || p.IP === "0.0.0.0" || p.IP === "::" ? "localhost" : p.IP.includes(":") ? `[${p.IP}]` : p.IP;
    const url = `http://${host}:${p.PublicPort}`;
    out.set(url, { url, label: `${host}:${p.PublicPort} → ${p.PrivatePort}/tcp` });
  }
  return [...out.values()];
}
