// Which Docker endpoints this user has: Hangar's own engine, then what the
// docker CLI would find (DOCKER_HOST, the local daemon, docker contexts),
// then what the user configured. Discovery reads files only; it never dials,
// and nothing a user's Docker set-up holds can make it throw.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { dockerHost, engineSocket } from "../../api/engine-socket";
import { DEFAULT_NAMED_PIPE, DEFAULT_UNIX_SOCKET, dockerHostKey, type ConfiguredEndpoint, type DockerEndpoint } from "./docker-endpoint";

export interface DiscoveryOptions {
  hangarHome: string;
  env?: NodeJS.ProcessEnv;
  configured?: ConfiguredEndpoint[];
  platform?: NodeJS.Platform;
  homedir?: string;
  /** Where the local daemon listens; /var/run/docker.sock (or docker_engine's pipe on Windows) unless a test says otherwise. */
  localSocket?: string;
}

/**
 * The endpoints in the order a UI lists them, duplicates (the same address
 * however spelled) dropped in favour of the earlier one.
 *
 * Configured endpoints whose host does not parse are kept, not dropped: the
 * user sees the entry they wrote, and connecting to it (connectDocker) throws
 * the parse error, which says what to fix.
 */
export async function discoverEndpoints(o: DiscoveryOptions): Promise<DockerEndpoint[]> {
  const env = o.env ?? process.env;
  const platform = o.platform ?? process.platform;
  const home = o.homedir ?? os.homedir();
  const found: DockerEndpoint[] = [{ id: "embedded", name: "Hangar (embedded)", host: dockerHost(engineSocket(o.hangarHome, platform)), source: "embedded" }];
  const fromEnv = environmentEndpoint(env, home);
  if (fromEnv) found.push(fromEnv);
  const local = o.localSocket ?? (platform === "win32" ? DEFAULT_NAMED_PIPE : DEFAULT_UNIX_SOCKET);
  if (socketExists(local)) found.push({ id: "local", name: "Local Docker", host: dockerHost(local), source: "local" });
  found.push(...(await contextEndpoints(dockerConfigDir(env, home))));
  for (const c of o.configured ?? []) found.push(configuredEndpoint(c, home));
  return dedupe(found);
}

function dockerConfigDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.DOCKER_CONFIG || path.join(home, ".docker");
}

/**
 * DOCKER_HOST with the docker CLI's TLS rules: DOCKER_TLS_VERIFY (any
 * non-empty value) means TLS with verification, DOCKER_TLS means TLS without;
 * certificates come from DOCKER_CERT_PATH, else the docker config folder,
 * each file only if it exists.
 */
function environmentEndpoint(env: NodeJS.ProcessEnv, home: string): DockerEndpoint | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return undefined;
  const endpoint: DockerEndpoint = { id: "environment", name: "DOCKER_HOST", host, source: "environment" };
  const verify = !!env.DOCKER_TLS_VERIFY;
  if (verify || env.DOCKER_TLS) {
    const dir = env.DOCKER_CERT_PATH || dockerConfigDir(env, home);
    endpoint.tls = { ...pemFiles(dir), verify };
  }
  return endpoint;
}

function pemFiles(dir: string): { ca?: string; cert?: string; key?: string } {
  const files: { ca?: string; cert?: string; key?: string } = {};
  for (const k of ["ca", "cert", "key"] as const) {
    const file = path.join(dir, `${k}.pem`);
    if (existsSync(file)) files[k] = file;
  }
  return files;
}

function socketExists(p: string): boolean {
  try {
    return existsSync(p);
  } catch {
    return false;
  }
}

interface ContextMeta {
  Name?: unknown;
  Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
}

/**
 * `docker context create` writes contexts/meta/<sha256 of name>/meta.json
 * and, for TLS, contexts/tls/<same>/docker/{ca,cert,key}.pem. A context with
 * TLS files, or with SkipTLSVerify set, speaks TLS (as the CLI decides).
 * "default" is the CLI's name for DOCKER_HOST or the local socket, listed already.
 */
async function contextEndpoints(configDir: string): Promise<DockerEndpoint[]> {
  const metaRoot = path.join(configDir, "contexts", "meta");
  const dirs = await readdir(metaRoot).catch(() => [] as string[]);
  const endpoints: DockerEndpoint[] = [];
  for (const dir of dirs.sort()) {
    let meta: ContextMeta;
    try {
      meta = JSON.parse(await readFile(path.join(metaRoot, dir, "meta.json"), "utf8")) as ContextMeta;
    } catch {
      continue;
    }
    const name = meta?.Name;
    const docker = meta?.Endpoints?.docker;
    if (typeof name !== "string" || !name || name === "default" || typeof docker?.Host !== "string" || !docker.Host) continue;
    const endpoint: DockerEndpoint = { id: `context:${name}`, name, host: docker.Host, source: "context" };
    const files = pemFiles(path.join(configDir, "contexts", "tls", dir, "docker"));
    const skipVerify = docker.SkipTLSVerify === true;
    if (Object.keys(files).length || skipVerify) endpoint.tls = { ...files, verify: !skipVerify };
    endpoints.push(endpoint);
  }
  return endpoints.sort((a, b) => a.name.localeCompare(b.name));
}

/** A settings entry; `~/` in its file paths means the home folder, as users write it. */
function configuredEndpoint(c: ConfiguredEndpoint, home: string): DockerEndpoint {
  const expand = (p: string) => (p === "~" || p.startsWith("~/") ? path.join(home, p.slice(1)) : p);
  const endpoint: DockerEndpoint = { id: `setting:${c.name}`, name: c.name, host: c.host.trim(), source: "setting" };
  if (c.tls) {
    const tls: NonNullable<DockerEndpoint["tls"]> = { verify: c.tls.verify ?? true };
    for (const k of ["ca", "cert", "key"] as const) {
      const file = c.tls[k];
      if (file) tls[k] = expand(file);
    }
    endpoint.tls = tls;
  }
  if (c.identityFile) endpoint.identityFile = expand(c.identityFile);
  return endpoint;
}

/** Keeps the first endpoint of each address (and of each id: two settings entries with one name). */
function dedupe(endpoints: DockerEndpoint[]): DockerEndpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((e) => {
    const keys = [`host ${dockerHostKey(e.host, { tls: !!e.tls })}`, `id ${e.id}`];
    if (keys.some((k) => seen.has(k))) return false;
    keys.forEach((k) => seen.add(k));
    return true;
  });
}
