import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../../util/errors";

/**
 * The Debian mirror the box builder downloads from. Never a hostname in
 * Hangar's code: the `hangar.debianMirror` setting, else HANGAR_DEBIAN_MIRROR,
 * else the first bookworm source in this computer's apt configuration
 * (deb822 `*.sources` and one-line `sources.list` files).
 */
export async function resolveDebianMirror(options: { setting?: string; env?: NodeJS.ProcessEnv; aptRoot?: string; suite?: string } = {}): Promise<{ url: string; source: "setting" | "env" | "apt" }> {
  const env = options.env ?? process.env;
  if (options.setting?.trim()) return { url: trimSlash(options.setting.trim()), source: "setting" };
  if (env.HANGAR_DEBIAN_MIRROR?.trim()) return { url: trimSlash(env.HANGAR_DEBIAN_MIRROR.trim()), source: "env" };
  const suite = options.suite ?? "bookworm";
  const aptDir = path.join(options.aptRoot ?? "/", "etc", "apt");
  const files = [path.join(aptDir, "sources.list"), ...(await listDir(path.join(aptDir, "sources.list.d"))).map((f) => path.join(aptDir, "sources.list.d", f))];
  for (const file of files) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    const url = file.endsWith(".sources") ? fromDeb822(text, suite) : file.endsWith(".list") ? fromOneLine(text, suite) : undefined;
    if (url) return { url: trimSlash(url), source: "apt" };
  }
  throw new HangarError(`No Debian ${suite} mirror was found in this computer's apt configuration (${aptDir}).`, "Set the hangar.debianMirror setting or the HANGAR_DEBIAN_MIRROR environment variable to a Debian mirror's URL.");
}

async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** deb822 stanzas: Types: deb, URIs: …, Suites: bookworm … (not -security/-updates), not Enabled: no. */
function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    if (!(fields.get("types") ?? "").split(/\s+/).includes("deb")) continue;
    if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
    if (!(fields.get("suites") ?? "").split(/\s+/).includes(suite)) continue;
    const uri = (fields.get("uris") ?? "").split(/\s+/).find((u) => /^https?:\/\//.test(u));
    if (uri) return uri;
  }
  return undefined;
}

/** `deb [options] URL suite components…` */
function fromOneLine(text: string, suite: string): string | undefined {
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m && m[2] === suite && /^https?:\/\//.test(m[1])) return m[1];
  }
  return undefined;
}
