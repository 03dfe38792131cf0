// Placeholder until the endpoints branch lands (replaced at merge).
import Dockerode from "dockerode";
import type { DockerEndpoint } from "./docker-endpoint";
export interface DockerConnection {
  endpoint: DockerEndpoint;
  docker: Dockerode;
  dispose(): void;
}
export function connectDocker(endpoint: DockerEndpoint): DockerConnection {
  const docker = new Dockerode({ socketPath: endpoint.host.replace(/^unix:\/\//, "") });
  return { endpoint, docker, dispose: () => undefined };
}
export function describeDockerError(err: unknown, endpoint: DockerEndpoint): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e?.json?.message ?? `${endpoint.host}: ${e?.message ?? String(err)}`;
}
