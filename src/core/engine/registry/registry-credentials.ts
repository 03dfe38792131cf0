import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RegistryError } from "./registry-client";

/** What a registry may be authenticated with (Docker's AuthConfig, the parts that matter). */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token `docker login` was given instead of keeping a password. */
  identityToken?: string;
  /** A bearer token to send as it is. */
  registryToken?: string;
}

/**
 * The X-Registry-Auth header the docker CLI sends with pull and push:
 * base64url JSON of an AuthConfig ("e30=", {}, when it has none). Bad
 * encoding is the client's error, said as Docker's 400.
 */
export function credentialsFromHeader(header: string | undefined): RegistryCredentials | undefined {
  if (!header) return undefined;
  const parsed = base64UrlJson(header);
  if (!parsed) throw new RegistryError("The X-Registry-Auth header is not base64-encoded JSON.", undefined, 400);
  return fromAuthConfig(parsed);
}

/** The X-Registry-Config header docker build sends (base64url JSON of registry → AuthConfig): the entry for `domain`, if readable. */
export function credentialsFromConfigHeader(header: string | undefined, domain: string): RegistryCredentials | undefined {
  const all = header ? base64UrlJson(header) : undefined;
  const entry = all?.[domain] ?? all?.[`https://${domain}`];
  return entry && typeof entry === "object" ? fromAuthConfig(entry as Record<string, unknown>) : undefined;
}

function base64UrlJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The body of POST /auth (`docker login`). */
export function credentialsFromAuthBody(body: Record<string, unknown>): RegistryCredentials {
  return fromAuthConfig(body) ?? {};
}

function fromAuthConfig(c: Record<string, unknown>): RegistryCredentials | undefined {
  const str = (k: string): string | undefined => (typeof c[k] === "string" && c[k] !== "" ? (c[k] as string) : undefined);
  let username = str("username");
  let password = str("password");
  const auth = str("auth");
  if (!username && auth) {
    const decoded = Buffer.from(auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  const creds: RegistryCredentials = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(str("identitytoken") ? { identityToken: str("identitytoken") } : {}),
    ...(str("registrytoken") ? { registryToken: str("registrytoken") } : {}),
  };
  return Object.keys(creds).length ? creds : undefined;
}

/**
 * Credentials the docker CLI keeps for a registry (for requests that come
 * without X-Registry-Auth, such as the VS Code views'): its config file's
 * `credHelpers` entry or `credsStore` (a docker-credential-<name> program,
 * asked with `get`), else the `auths` entry. None when there are none.
 */
export async function credentialsFromDockerConfig(domain: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials | undefined> {
  const dir = env.DOCKER_CONFIG || path.join(os.homedir(), ".docker");
  let config: { auths?: Record<string, Record<string, unknown>>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    config = JSON.parse(await fs.readFile(path.join(dir, "config.json"), "utf8")) as typeof config;
  } catch {
    return undefined;
  }
  const helper = config.credHelpers?.[domain] ?? config.credsStore;
  if (helper && /^[\w.-]+$/.test(helper)) {
    const fromHelper = await askHelper(helper, domain).catch(() => undefined);
    if (fromHelper) return fromHelper;
  }
  const entry = config.auths?.[domain] ?? config.auths?.[`https://${domain}`] ?? config.auths?.[`http://${domain}`];
  return entry ? fromAuthConfig(entry) : undefined;
}

/** The registries the docker CLI has logins for (its config's `auths` and `credHelpers`), as host[:port]. */
export async function dockerConfigRegistries(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const dir = env.DOCKER_CONFIG || path.join(os.homedir(), ".docker");
  try {
    const config = JSON.parse(await fs.readFile(path.join(dir, "config.json"), "utf8")) as { auths?: Record<string, unknown>; credHelpers?: Record<string, unknown> };
    const keys = [...Object.keys(config.auths ?? {}), ...Object.keys(config.credHelpers ?? {})];
    return [...new Set(keys.map((k) => k.replace(/^https?:\/\//, "").replace(/\/.*$/, "")).filter(Boolean))];
  } catch {
    return [];
  }
}

/** The credential helper protocol: the server on stdin, {ServerURL, Username, Secret} on stdout ("<token>" as the user: an identity token). */
function askHelper(helper: string, domain: string): Promise<RegistryCredentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ["get"], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return resolve(undefined);
      try {
        const r = JSON.parse(out) as { Username?: string; Secret?: string };
        if (!r.Secret) return resolve(undefined);
        resolve(r.Username === "<token>" ? { identityToken: r.Secret } : { username: r.Username, password: r.Secret });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.end(domain);
  });
}
