// Placeholder until the endpoints branch lands (replaced at merge).
import { dockerHost, engineEndpoint } from "../../api/engine-endpoint";
import type { ConfiguredEndpoint, DockerEndpoint } from "./docker-endpoint";
export async function discoverEndpoints(o: { hangarHome: string; env?: NodeJS.ProcessEnv; configured?: ConfiguredEndpoint[] }): Promise<DockerEndpoint[]> {
  const list: DockerEndpoint[] = [{ id: "embedded", name: "Hangar (embedded)", host: dockerHost(engineEndpoint(o.hangarHome)), source: "embedded" }];
  for (const c of o.configured ?? []) list.push({ id: `setting:${c.name}`, name: c.name, host: c.host, source: "setting" });
  return list;
}
