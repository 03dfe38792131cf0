import { promises as fs } from "node:fs";
import { createHash } from "node:crypto";
import { HangarError } from "../../util/errors";
import type { DownloadStore } from "../download-store";
import { compareDebianVersions } from "./debian-version";
import { xzDecompressBuffer } from "./xz";

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
  filename: string;
  sha256: string;
  size: number;
  depends: string[][];
  provides: string[];
}

/**
 * One suite/component/architecture of a Debian repository, as the box
 * builder needs it. Trust: the Release file's SHA256 list vouches for the
 * Packages index, and the index for every .deb. The Release file itself is not
 * signature-checked (no OpenPGP here), so a hostile mirror could serve a
 * consistent but malicious set — use a mirror you trust (hangar.debianMirror).
 */
export class DebianPackages {
  private constructor(readonly mirror: string, private readonly byName: Map<string, DebianPackage[]>, private readonly providers: Map<string, DebianPackage[]>) {}

  static async load(mirror: string, store: DownloadStore, o: { suite?: string; component?: string; arch?: string; signal?: AbortSignal } = {}): Promise<DebianPackages> {
    const suite = o.suite ?? "bookworm";
    const component = o.component ?? "main";
    const arch = o.arch ?? "i386";
    const releaseUrl = `${mirror}/dists/${suite}/Release`;
    let release: string;
    try {
      const res = await fetch(releaseUrl, { signal: o.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      release = await res.text();
    } catch (err) {
      throw new HangarError(`Reading ${releaseUrl} failed (${(err as Error).message}).`, "Check the network and the Debian mirror (hangar.debianMirror / HANGAR_DEBIAN_MIRROR).");
    }
    const wanted = `${component}/binary-${arch}/Packages.xz`;
    const line = sha256Section(release).find((l) => l.path === wanted);
    if (!line) throw new HangarError(`${releaseUrl} lists no ${wanted}.`, "Is this a Debian mirror with the i386 architecture?");
    const file = await store.fetch(`${mirror}/dists/${suite}/${wanted}`, { sha256: line.sha256, size: line.size, signal: o.signal });
    const text = (await xzDecompressBuffer(await fs.readFile(file))).toString("utf8");
    return DebianPackages.fromIndex(mirror, text);
  }

  static fromIndex(mirror: string, text: string): DebianPackages {
    const byName = new Map<string, DebianPackage[]>();
    const providers = new Map<string, DebianPackage[]>();
    for (const para of parseParagraphs(text)) {
      const name = para.get("package");
      const filename = para.get("filename");
      const sha256 = para.get("sha256");
      if (!name || !filename || !sha256) continue;
      const pkg: DebianPackage = {
        name,
        version: para.get("version") ?? "0",
        architecture: para.get("architecture") ?? "",
        filename,
        sha256,
        size: Number(para.get("size") ?? 0),
        depends: [...relations(para.get("pre-depends")), ...relations(para.get("depends"))],
        provides: relations(para.get("provides")).map((alts) => alts[0]),
      };
      push(byName, name, pkg);
      for (const p of pkg.provides) push(providers, p, pkg);
    }
    return new DebianPackages(mirror, byName, providers);
  }

  /** The newest version of a package (or the newest provider of a virtual one). */
  find(name: string): DebianPackage | undefined {
    const list = this.byName.get(name) ?? this.providers.get(name);
    return list && [...list].sort((a, b) => compareDebianVersions(b.version, a.version))[0];
  }

  require(name: string): DebianPackage {
    const p = this.find(name);
    if (!p) throw new HangarError(`The Debian package ${name} is not in ${this.mirror}'s index.`);
    return p;
  }

  /** The newest `linux-image-<version>-686-unsigned` kernel. */
  latestKernel(): DebianPackage {
    const kernels = [...this.byName.keys()].filter((n) => /^linux-image-\d[\w.+-]*-686-unsigned$/.test(n)).map((n) => this.find(n)!);
    if (!kernels.length) throw new HangarError(`No linux-image-*-686-unsigned kernel in ${this.mirror}'s i386 index.`);
    return kernels.sort((a, b) => compareDebianVersions(b.version, a.version) || b.name.localeCompare(a.name))[0];
  }

  /**
   * `names` and everything they depend on (Pre-Depends and Depends; the first
   * available alternative; virtual packages through Provides). Version
   * constraints are not checked: one suite is self-consistent.
   */
  closure(names: string[], skip: (name: string) => boolean = () => false): DebianPackage[] {
    const out = new Map<string, DebianPackage>();
    const visit = (name: string): void => {
      if (skip(name)) return;
      const pkg = this.require(name);
      if (out.has(pkg.name)) return;
      out.set(pkg.name, pkg);
      for (const alts of pkg.depends) {
        const choice = alts.find((a) => this.find(a));
        if (choice) visit(choice);
      }
    };
    names.forEach(visit);
    return [...out.values()];
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `a (>= 1) | b, c:any` → [["a","b"],["c"]] */
function relations(field: string | undefined): string[][] {
  if (!field) return [];
  return field.split(",").map((group) => group.split("|").map((alt) => alt.trim().replace(/\s*\(.*\)$/, "").replace(/:\w+$/, "").replace(/\s*\[.*\]$/, "").trim()).filter(Boolean)).filter((g) => g.length);
}

function parseParagraphs(text: string): Array<Map<string, string>> {
  const out: Array<Map<string, string>> = [];
  for (const block of text.split(/\n\n+/)) {
    const para = new Map<string, string>();
    let key = "";
    for (const line of block.split("\n")) {
      if (/^\s/.test(line) && key) para.set(key, `${para.get(key)}\n${line.trim()}`);
      else {
        const i = line.indexOf(":");
        if (i <= 0) continue;
        key = line.slice(0, i).toLowerCase();
        para.set(key, line.slice(i + 1).trim());
      }
    }
    if (para.size) out.push(para);
  }
  return out;
}

/** Lines of the Release file's SHA256 section: digest, size, path. */
function sha256Section(release: string): Array<{ sha256: string; size: number; path: string }> {
  const m = /^SHA256:\n((?:[ \t].*\n?)*)/m.exec(release);
  if (!m) return [];
  return m[1]
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3)
    .map(([sha256, size, path]) => ({ sha256, size: Number(size), path }));
}

export function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
