// Placeholder until the endpoints branch lands (replaced at merge).
export type EndpointSource = "embedded" | "environment" | "local" | "context" | "setting";
export interface DockerEndpoint {
  id: string;
  name: string;
  host: string;
  source: EndpointSource;
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  identityFile?: string;
}
export interface ConfiguredEndpoint {
  name: string;
  host: string;
  tls?: { ca?: string; cert?: string; key?: string; verify?: boolean };
  identityFile?: string;
}
