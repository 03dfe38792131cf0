import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../../util/errors";
import { parseDeb822 } from "./deb822";

/**
 * Which Debian mirror the box builder downloads from. Hangar names no mirror
 * itself (mirrors differ by country, company policy and proxy), so the URL
 * comes, in this order, from:
 *   1. the `hangar.debianMirror` setting (passed in by the adapter as `setting`),
 *   2. the HANGAR_DEBIAN_MIRROR environment variable,
 *   3. this computer's apt configuration: the first enabled `deb` source for
 *      the suite (bookworm) with the `main` component, reading
 *      `/etc/apt/sources.list` and then `/etc/apt/sources.list.d/*.list` and
 *      `*.sources` in name order, as apt does.
 * Only http and https URLs qualify: apt's other methods (`file:`, `cdrom:`,
 * `mirror+…`, `tor+…`) are not something Node's fetch can read.
 */
export interface DebianMirror {
  url: string;
  source: "setting" | "env" | "apt";
}

export interface ResolveDebianMirrorOptions {
  /** The `hangar.debianMirror` setting; empty means unset. */
  setting?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Root of the apt tree to read (tests point it at a fixture); defaults to "/". */
  aptRoot?: string;
  /** Defaults to "bookworm", the release the default box is built from. */
  suite?: string;
}

/** Nothing said where the Debian mirror is. */
export class DebianMirrorNotFoundError extends HangarError {
  constructor(suite: string, aptDir: string) {
    super(
      `No Debian mirror for ${suite} is configured: the hangar.debianMirror setting and the HANGAR_DEBIAN_MIRROR environment variable are empty, and ${aptDir} has no enabled "deb" source for ${suite} main.`,
      "Set hangar.debianMirror (or HANGAR_DEBIAN_MIRROR) to the http(s) URL of a Debian mirror, the folder that holds dists/ and pool/.",
    );
  }
}

/** The setting or the environment variable holds something that is not a mirror URL. */
export class InvalidDebianMirrorError extends HangarError {
  constructor(value: string, where: string) {
    super(`${where} is "${value}", which is not an http(s) URL.`, `Set ${where} to the http(s) URL of a Debian mirror, the folder that holds dists/ and pool/.`);
  }
}

export function resolveDebianMirror(options: ResolveDebianMirrorOptions = {}): DebianMirror {
  const env = options.env ?? process.env;
  const suite = options.suite ?? "bookworm";
  const setting = options.setting?.trim();
  if (setting) return { url: checkedUrl(setting, "The hangar.debianMirror setting"), source: "setting" };
  const fromEnv = env.HANGAR_DEBIAN_MIRROR?.trim();
  if (fromEnv) return { url: checkedUrl(fromEnv, "HANGAR_DEBIAN_MIRROR"), source: "env" };
  const aptDir = path.join(options.aptRoot ?? "/", "etc", "apt");
  for (const file of aptSourceFiles(aptDir)) {
    const text = readText(file);
    if (text === undefined) continue;
    const url = file.endsWith(".sources") ? fromDeb822Sources(text, suite) : fromOneLineSources(text, suite);
    if (url) return { url, source: "apt" };
  }
  throw new DebianMirrorNotFoundError(suite, aptDir);
}

/** sources.list first, then sources.list.d's *.list and *.sources in name order (apt's order). */
function aptSourceFiles(aptDir: string): string[] {
  const dir = path.join(aptDir, "sources.list.d");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    names = [];
  }
  const parts = names.filter((n) => n.endsWith(".list") || n.endsWith(".sources")).sort();
  return [path.join(aptDir, "sources.list"), ...parts.map((n) => path.join(dir, n))];
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined; // absent or unreadable: apt would skip it too
  }
}

/**
 * deb822 stanzas (sources.list(5), "DEB822-STYLE FORMAT"): `Types` must list
 * `deb`, `Suites` must list the suite itself (a stanza for only
 * bookworm-updates or bookworm-security does not count: those hold a few
 * packages, not the release), `Components` must list `main`, and
 * `Enabled: no` switches a stanza off.
 */
function fromDeb822Sources(text: string, suite: string): string | undefined {
  for (const stanza of parseDeb822(text)) {
    if (!words(stanza.get("Types")).includes("deb")) continue;
    if (/^(no|false|without|off|disable|0)$/i.test(stanza.get("Enabled") ?? "")) continue;
    if (!words(stanza.get("Suites")).includes(suite)) continue;
    if (!words(stanza.get("Components")).includes("main")) continue;
    const url = words(stanza.get("URIs")).find(isHttpUrl);
    if (url) return normalise(url);
  }
  return undefined;
}

/** One-line form: `deb [option=value …] URI suite component…`; `#` starts a comment. */
function fromOneLineSources(text: string, suite: string): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s*)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2] !== suite || !words(m[3]).includes("main") || !isHttpUrl(m[1])) continue;
    return normalise(m[1]);
  }
  return undefined;
}

function words(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter(Boolean);
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** One spelling per mirror: no trailing slash, so callers append `/dists/…`. */
function normalise(url: string): string {
  return url.replace(/\/+$/, "");
}

function checkedUrl(value: string, where: string): string {
  if (!isHttpUrl(value)) throw new InvalidDebianMirrorError(value, where);
  return normalise(value);
}
