import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { Readable } from "node:stream";
import { HangarError } from "../../util/errors";
import type { RegistryCredentials } from "./registry-credentials";

/**
 * One registry, spoken to as the OCI distribution spec and Docker's registry
 * API describe: /v2/<repository>/manifests|blobs, bearer tokens fetched from
 * the realm a 401's WWW-Authenticate names (or basic credentials when it asks
 * for those), retries on 429 and 5xx, and redirects (blob storage) followed
 * without the registry's credentials. Plain http only for loopback registries
 * and those the user lists as insecure, as dockerd allows.
 */
export class RegistryError extends HangarError {
  constructor(
    message: string,
    hint?: string,
    readonly status?: number,
  ) {
    super(message, hint);
  }
}

/** The registry did not answer at all (no such name, refused, no route): a built-in image may stand in. */
export class RegistryUnreachableError extends RegistryError {}

/** The environment variable listing registries (host[:port]) that may be used over plain http, besides loopback ones. */
export const INSECURE_REGISTRIES_ENV = "HANGAR_INSECURE_REGISTRIES";

/** Where a store name lives: its own domain ("localhost:5000/app"), else the default registry's, when one is known. */
export function registryOf(name: string, defaultDomain: string | undefined): { domain: string; repository: string } | undefined {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  if (/[.:]/.test(first) || first === "localhost") return { domain: first, repository: name.slice(slash + 1) };
  return defaultDomain ? { domain: defaultDomain, repository: name } : undefined;
}

export function insecureRegistries(env: NodeJS.ProcessEnv): string[] {
  return (env[INSECURE_REGISTRIES_ENV] ?? "").split(/[\s,]+/).filter(Boolean);
}

export interface RegistryOptions {
  /** "host[:port]" as references spell it. */
  domain: string;
  credentials?: RegistryCredentials;
  /** Domains (host[:port]) that may be spoken to over plain http. */
  insecure?: string[];
  signal?: AbortSignal;
  /** For tests: how long to wait before a retry (ms, by attempt). */
  retryDelay?(attempt: number): number;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** Manifest media types a pull accepts, most specific first. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const ATTEMPTS = 4;

export class RegistryClient {
  private scheme?: "https" | "http";
  /** Bearer tokens by scope. */
  private readonly tokens = new Map<string, string>();
  /** How the registry asked to be authenticated, once it has. */
  private challenge?: { scheme: "bearer" | "basic"; params: Record<string, string> };

  constructor(private readonly o: RegistryOptions) {}

  get domain(): string {
    return this.o.domain;
  }

  /** Whether plain http may be used: loopback (as dockerd allows) or listed by the user. */
  private get mayUsePlainHttp(): boolean {
    const host = hostOf(this.o.domain);
    const loopback = host === "localhost" || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";
    return loopback || (this.o.insecure ?? []).includes(this.o.domain);
  }

  /** GET /v2/ with credentials: what `docker login` checks. */
  async ping(): Promise<void> {
    const res = await this.request("GET", "/v2/", { scope: "" });
    await res.body?.cancel();
  }

  async manifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.request("GET", `/v2/${repository}/manifests/${reference}`, { scope: `repository:${repository}:pull`, headers: { Accept: MANIFEST_ACCEPT } });
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256(bytes);
    // A manifest asked for by digest must be that digest; one asked for by tag is named by what arrived.
    if (reference.startsWith("sha256:") && digest !== reference)
      throw new RegistryError(
        `The registry ${this.o.domain} sent a manifest for ${repository}@${reference} whose digest is ${digest}.`,
        "Try again; if it persists, the registry is serving corrupt data.",
      );
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim() || mediaTypeIn(bytes);
    return { bytes, mediaType, digest };
  }

  /** A blob's bytes as a stream; the caller verifies the digest as it reads (see verifyingDigest). */
  async blob(repository: string, digest: string): Promise<{ stream: Readable; size?: number }> {
    const res = await this.request("GET", `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull` });
    if (!res.body) throw new RegistryError(`The registry ${this.o.domain} sent no body for blob ${digest}.`);
    const length = Number(res.headers.get("content-length"));
    return { stream: Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>), ...(Number.isFinite(length) && length > 0 ? { size: length } : {}) };
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull,push`, allow: [404] });
    return res.status === 200;
  }

  /** Cross-repository mount: true when the registry linked the blob from `from` without an upload. */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const res = await this.request("POST", `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
      scope: `repository:${repository}:pull,push repository:${from}:pull`,
      allow: [202],
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    // 202: the registry started an upload instead; leave it (it expires).
    return false;
  }

  /** A monolithic upload: POST for a session, then PUT the whole blob with its digest. */
  async uploadBlob(repository: string, digest: string, size: number, open: () => Readable): Promise<void> {
    const scope = `repository:${repository}:pull,push`;
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`, { scope, allow: [202] });
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (!location) throw new RegistryError(`The registry ${this.o.domain} started an upload without saying where to send it.`);
    const url = new URL(location, await this.base());
    url.searchParams.set("digest", digest);
    const put = await this.request("PUT", url.toString(), {
      scope,
      headers: { "Content-Type": "application/octet-stream", "Content-Length": String(size) },
      body: open,
    });
    await put.body?.cancel();
  }

  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "Content-Type": mediaType },
      body: () => Readable.from([bytes]),
    });
    await res.body?.cancel();
    return res.headers.get("docker-content-digest") ?? sha256(bytes);
  }

  /** The tags of a repository (the Registries view). */
  async tags(repository: string): Promise<string[]> {
    const res = await this.request("GET", `/v2/${repository}/tags/list`, { scope: `repository:${repository}:pull` });
    const body = (await res.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** The registry's repositories, where it lists them (/v2/_catalog). */
  async repositories(): Promise<string[]> {
    const res = await this.request("GET", "/v2/_catalog", { scope: "registry:catalog:*" });
    const body = (await res.json()) as { repositories?: string[] | null };
    return body.repositories ?? [];
  }

  private async base(): Promise<string> {
    if (!this.scheme) await this.chooseScheme();
    return `${this.scheme}://${this.o.domain}`;
  }

  /** https; plain http where allowed and https cannot be spoken (as dockerd falls back for insecure registries). */
  private async chooseScheme(): Promise<void> {
    try {
      const res = await fetch(`https://${this.o.domain}/v2/`, { signal: this.o.signal, redirect: "manual" });
      await res.body?.cancel();
      this.scheme = "https";
    } catch (err) {
      if (this.o.signal?.aborted) throw err;
      if (!this.mayUsePlainHttp) throw unreachable(this.o.domain, err);
      this.scheme = "http";
    }
  }

  /**
   * One request with authentication and retries. `path` is a path on the
   * registry or an absolute URL (an upload location). Statuses other than
   * 2xx and `allow` become RegistryErrors with the registry's own message.
   */
  private async request(method: string, pathOrUrl: string, o: { scope: string; headers?: Record<string, string>; body?: () => Readable; allow?: number[] }): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${await this.base()}${pathOrUrl}`;
    let authorized = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...o.headers };
      const auth = await this.authorization(o.scope);
      if (auth) headers.Authorization = auth;
      let res: Response;
      try {
        res = await this.fetchFollowing(url, method, headers, o.body);
      } catch (err) {
        if (this.o.signal?.aborted || attempt >= ATTEMPTS || !transient(err)) throw unreachable(this.o.domain, err);
        await this.pause(attempt);
        continue;
      }
      if (res.status === 401 && !authorized) {
        await res.body?.cancel();
        this.challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
        if (!this.challenge) throw await registryError(this.o.domain, res, method, url);
        this.tokens.delete(o.scope);
        authorized = true;
        continue;
      }
      if ((res.status === 429 || res.status >= 500) && attempt < ATTEMPTS) {
        await res.body?.cancel();
        await this.pause(attempt, res.headers.get("retry-after"));
        continue;
      }
      if (res.ok || (o.allow ?? []).includes(res.status)) return res;
      throw await registryError(this.o.domain, res, method, url);
    }
  }

  private async pause(attempt: number, retryAfter?: string | null): Promise<void> {
    const asked = Number(retryAfter);
    const ms = this.o.retryDelay?.(attempt) ?? (Number.isFinite(asked) && asked > 0 ? Math.min(asked, 30) * 1000 : 500 * 2 ** (attempt - 1));
    await new Promise((r) => setTimeout(r, ms));
  }

  /**
   * Follows redirects itself: a registry sends blob downloads to storage on
   * another host, which must not receive the registry's Authorization.
   */
  private async fetchFollowing(url: string, method: string, headers: Record<string, string>, body?: () => Readable): Promise<Response> {
    let current = url;
    let currentHeaders = headers;
    for (let hops = 0; hops < 10; hops++) {
      const init: RequestInit & { duplex?: "half" } = { method, headers: currentHeaders, redirect: "manual", signal: this.o.signal };
      if (body) {
        init.body = Readable.toWeb(body()) as unknown as ReadableStream<Uint8Array>;
        init.duplex = "half";
      }
      const res = await fetch(current, init);
      const location = res.headers.get("location");
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.body?.cancel();
      const next = new URL(location, current);
      if (next.origin !== new URL(current).origin) {
        const { Authorization: _dropped, ...rest } = currentHeaders;
        currentHeaders = rest;
      }
      current = next.toString();
    }
    throw new RegistryError(`The registry ${this.o.domain} redirected ${method} ${url} more than 10 times.`);
  }

  /** The Authorization header for a scope, fetching a bearer token first when the registry asked for one. */
  private async authorization(scope: string): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    const creds = this.o.credentials;
    if (c.scheme === "basic") return creds?.username ? basic(creds.username, creds.password ?? "") : undefined;
    const cached = this.tokens.get(scope);
    if (cached) return `Bearer ${cached}`;
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = c.params.realm;
    if (!realm) throw new RegistryError(`The registry ${this.o.domain} asked for a bearer token without naming where to get one.`);
    const tokenUrl = new URL(realm);
    if (c.params.service) tokenUrl.searchParams.set("service", c.params.service);
    for (const s of scope.split(" ").filter(Boolean)) tokenUrl.searchParams.append("scope", s);
    let res: Response;
    const headers: Record<string, string> = {};
    if (creds?.identityToken) {
      // OAuth2 refresh token (what `docker login` keeps for registries that give one).
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, service: c.params.service ?? "", scope, client_id: "hangar" });
      res = await fetch(realm, { method: "POST", body: form, signal: this.o.signal });
    } else {
      if (creds?.username) headers.Authorization = basic(creds.username, creds.password ?? "");
      res = await fetch(tokenUrl, { headers, signal: this.o.signal });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw new RegistryError(
        `Getting a token for ${this.o.domain} failed: ${res.status} ${res.statusText}${text ? ` (${text.trim().slice(0, 200)})` : ""}`,
        creds?.username ? "Check the user name and password (docker login)." : "Log in first: docker login " + this.o.domain,
        res.status,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`The token service of ${this.o.domain} answered without a token.`);
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function hostOf(domain: string): string {
  if (domain.startsWith("[")) return domain.slice(1, domain.indexOf("]"));
  const colon = domain.lastIndexOf(":");
  return colon >= 0 ? domain.slice(0, colon) : domain;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string): { scheme: "bearer" | "basic"; params: Record<string, string> } | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme !== "bearer" && scheme !== "basic") return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  return { scheme, params };
}

function mediaTypeIn(bytes: Buffer): string {
  try {
    const m = (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType;
    return typeof m === "string" ? m : "";
  } catch {
    return "";
  }
}

/** Worth another try: a connection reset or timed out; not a name that does not resolve, a refused port or a certificate. */
function transient(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code ?? "";
  return ["ECONNRESET", "ETIMEDOUT", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT"].includes(code);
}

function unreachable(domain: string, err: unknown): RegistryError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new RegistryUnreachableError(
    `The registry ${domain} cannot be reached: ${detail}.`,
    "Check the name and your network; a registry on plain http must be on this computer or listed in the hangar.engine.insecureRegistries setting (HANGAR_INSECURE_REGISTRIES).",
  );
}

/** The registry's error body ({"errors":[{code,message}]}) in the message, as dockerd reports it. */
async function registryError(domain: string, res: Response, method: string, url: string): Promise<RegistryError> {
  const text = method === "HEAD" ? "" : await res.text().catch(() => "");
  let detail = "";
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? [];
    detail = errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch {
    detail = text.trim().slice(0, 200);
  }
  const what = new URL(url).pathname;
  if (res.status === 401 || res.status === 403)
    return new RegistryError(
      `${domain} refused ${method} ${what}: ${detail || `${res.status} ${res.statusText}`}`,
      `Log in with docker login ${domain}, or check that you may use this repository.`,
      res.status,
    );
  if (res.status === 404) return new RegistryError(`${domain} has no ${what}: ${detail || "not found"}`, undefined, 404);
  return new RegistryError(`${domain} answered ${method} ${what} with ${res.status} ${res.statusText}${detail ? `: ${detail}` : ""}`, undefined, res.status);
}
