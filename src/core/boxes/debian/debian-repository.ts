import { promises as fs } from "node:fs";
import { errorMessage, HangarError } from "../../util/errors";
import type { DownloadCache } from "../download-cache";
import { parseDeb822, type Deb822Paragraph } from "./deb822";
import { compareDebianVersions } from "./debian-version-order";
import { compressionOf, decompressBuffer } from "./decompression";

/**
 * One binary package of the index, with the fields of its Packages paragraph
 * under their deb822 names. Relationship fields are kept as written ("" when
 * absent); `parseRelations` splits them.
 */
export interface DebianPackage {
  Package: string;
  Version: string;
  Architecture: string;
  /** Path of the .deb relative to the mirror URL (pool/main/…). */
  Filename: string;
  SHA256: string;
  Size: number;
  Depends: string;
  "Pre-Depends": string;
  Provides: string;
  /** required, important, standard, optional or extra ("" when absent): minbase is every required package, plus apt. */
  Priority: string;
  /** "yes" for the packages dpkg must never be without. */
  Essential: string;
}

/** A kernel image package, with the release its modules are installed under (`lib/modules/<release>/`). */
export interface DebianKernelPackage extends DebianPackage {
  kernelRelease: string;
}

export interface DebianRepositoryOptions {
  suite?: string;
  component?: string;
  arch?: string;
}

export interface DebianProgressOptions {
  onProgress?(received: number, total: number | undefined): void;
  signal?: AbortSignal;
}

/** The mirror could not be read, or its index is not what a Debian mirror serves. */
export class DebianIndexError extends HangarError {}

/** A package (or a dependency of one) is not in the index. */
export class DebianPackageNotFoundError extends HangarError {
  constructor(
    readonly packageName: string,
    where: string,
    neededBy?: string,
  ) {
    super(
      `The Debian package ${packageName}${neededBy ? ` (needed by ${neededBy})` : ""} is not in ${where}.`,
      "Check that the mirror (hangar.debianMirror / HANGAR_DEBIAN_MIRROR) is a complete Debian mirror for this release and architecture.",
    );
  }
}

/** Debian kernels in the 686 flavour without PAE: e.g. linux-image-6.1.0-37-686-unsigned (not -686-pae, -rt-686-pae, -dbg). */
const KERNEL_NAME = /^linux-image-(\d+\.\d+(?:\.\d+)*-\d+)-686-unsigned$/;

/**
 * One suite/component/architecture of a Debian mirror, as the box builder
 * needs it: the index of binary packages, dependency resolution and
 * verified downloads.
 *
 * Trust: the `Release` file's SHA256 list is the anchor. It vouches for the
 * Packages index (downloaded and checked against it), and the index vouches
 * for each .deb (its SHA256 field, checked by the download cache). The
 * Release file itself is NOT signature-checked: InRelease/Release.gpg
 * verification needs OpenPGP and Debian's archive keyring, which is out of
 * scope here. The risk: a hostile or compromised mirror, or anyone able to
 * tamper with plain-http traffic, can serve a self-consistent Release,
 * index and packages of its choosing, and they would run in the guest. Use
 * a mirror over https, or one you trust, through hangar.debianMirror.
 */
export class DebianRepository {
  readonly mirrorUrl: string;
  readonly suite: string;
  readonly component: string;
  readonly arch: string;
  private byName?: Map<string, DebianPackage[]>;
  private providers?: Map<string, DebianPackage[]>;

  constructor(
    mirrorUrl: string,
    private readonly cache: DownloadCache,
    options: DebianRepositoryOptions = {},
  ) {
    this.mirrorUrl = mirrorUrl.replace(/\/+$/, "");
    this.suite = options.suite ?? "bookworm";
    this.component = options.component ?? "main";
    this.arch = options.arch ?? "i386";
  }

  private get where(): string {
    return `${this.mirrorUrl} (${this.suite}/${this.component}, ${this.arch})`;
  }

  /**
   * Reads dists/<suite>/Release, then the Packages index it lists (xz
   * preferred, else gzip), verified against the Release file's SHA256 and
   * size. Progress is that of the Packages download (the big one).
   */
  async loadIndex(options: DebianProgressOptions = {}): Promise<void> {
    const releaseUrl = `${this.mirrorUrl}/dists/${this.suite}/Release`;
    const release = await this.readRelease(releaseUrl, options.signal);
    const listed = new Map(releaseSha256(release).map((e) => [e.path, e]));
    const base = `${this.component}/binary-${this.arch}/Packages`;
    const entry = [`${base}.xz`, `${base}.gz`].map((p) => listed.get(p)).find((e) => e !== undefined);
    if (!entry) {
      throw new DebianIndexError(
        `${releaseUrl} lists no ${base}.xz or ${base}.gz in its SHA256 section.`,
        `Check that the mirror carries the ${this.arch} architecture and the ${this.component} component of ${this.suite} (some mirrors carry only amd64).`,
      );
    }
    // With Acquire-By-Hash the mirror also keeps each index under its digest,
    // so a mirror that updates between our two requests still serves the
    // exact file this Release describes (apt does the same).
    const dir = entry.path.slice(0, entry.path.lastIndexOf("/"));
    const url = /^yes$/i.test(release.get("Acquire-By-Hash") ?? "")
      ? `${this.mirrorUrl}/dists/${this.suite}/${dir}/by-hash/SHA256/${entry.sha256}`
      : `${this.mirrorUrl}/dists/${this.suite}/${entry.path}`;
    const file = await this.cache.fetch(url, { sha256: entry.sha256, size: entry.size, onProgress: options.onProgress, signal: options.signal });
    let text: string;
    try {
      text = (await decompressBuffer(await fs.readFile(file), compressionOf(entry.path) ?? "none", options.signal)).toString("utf8");
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new DebianIndexError(`The index ${url} could not be decompressed: ${errorMessage(err)}.`, `Delete ${file} and try again.`);
    }
    this.useIndex(text);
  }

  /** Installs an index from Packages text (what loadIndex does after downloading; tests use it directly). */
  useIndex(packagesText: string): void {
    const byName = new Map<string, DebianPackage[]>();
    const providers = new Map<string, DebianPackage[]>();
    const fields = ["Package", "Version", "Architecture", "Filename", "SHA256", "Size", "Depends", "Pre-Depends", "Provides", "Priority", "Essential"];
    for (const p of parseDeb822(packagesText, { only: fields })) {
      const pkg: DebianPackage = {
        Package: p.get("Package") ?? "",
        Version: p.get("Version") ?? "",
        Architecture: p.get("Architecture") ?? "",
        Filename: p.get("Filename") ?? "",
        SHA256: p.get("SHA256") ?? "",
        Size: Number(p.get("Size") ?? NaN),
        Depends: p.get("Depends") ?? "",
        "Pre-Depends": p.get("Pre-Depends") ?? "",
        Provides: p.get("Provides") ?? "",
        Priority: p.get("Priority") ?? "",
        Essential: p.get("Essential") ?? "",
      };
      // A paragraph without what a download needs cannot be used; skip it rather than fail the index.
      if (!pkg.Package || !pkg.Version || !pkg.Filename || !/^[0-9a-f]{64}$/i.test(pkg.SHA256) || !Number.isSafeInteger(pkg.Size)) continue;
      push(byName, pkg.Package, pkg);
      for (const group of parseRelations(pkg.Provides)) for (const provided of group) push(providers, provided, pkg);
    }
    if (byName.size === 0) throw new DebianIndexError(`The package index of ${this.where} holds no packages.`, "Check the mirror URL.");
    this.byName = byName;
    this.providers = providers;
  }

  /** Every package name in the index. */
  names(): string[] {
    return [...this.index().byName.keys()];
  }

  /** The newest version of every package whose Priority is `priority` (e.g. "required", what debootstrap's minbase starts from). */
  withPriority(priority: string): DebianPackage[] {
    return [...this.index().byName.values()].map((list) => highest(list)!).filter((p) => p.Priority === priority);
  }

  /** The highest version of the package `name` (a real package, not a virtual one), or undefined. */
  find(name: string): DebianPackage | undefined {
    return highest(this.index().byName.get(name));
  }

  /** Like find, but a missing package is an error. */
  require(name: string): DebianPackage {
    const pkg = this.find(name);
    if (!pkg) throw new DebianPackageNotFoundError(name, this.where);
    return pkg;
  }

  /**
   * `names` and everything they need, transitively: Pre-Depends and Depends.
   *  - Alternatives (`a | b`): the first one the index has, real or virtual.
   *  - A virtual name (only in some package's Provides): a provider already
   *    chosen, else the first provider in index order.
   *  - Version constraints (`(>= 2.36)`) and architecture qualifiers (`:any`)
   *    are ignored: one suite of one mirror is self-consistent, and apt
   *    would pick the same newest versions.
   *  - `exclude(name)` true means the caller provides that name otherwise:
   *    it is not added, and a dependency group naming it counts as met.
   * Returns each package once, in the order first reached (depth first).
   */
  resolveDependencies(names: readonly string[], options: { exclude?(name: string): boolean } = {}): DebianPackage[] {
    const chosen = new Map<string, DebianPackage>();
    const visit = (name: string, neededBy?: string): void => {
      if (options.exclude?.(name)) return;
      const pkg = this.find(name) ?? this.provider(name, chosen, roots);
      if (!pkg) throw new DebianPackageNotFoundError(name, this.where, neededBy);
      if (chosen.has(pkg.Package)) return;
      chosen.set(pkg.Package, pkg);
      for (const group of [...parseRelations(pkg["Pre-Depends"]), ...parseRelations(pkg.Depends)]) {
        if (group.some((alt) => options.exclude?.(alt))) continue; // the caller satisfies it otherwise
        // As apt does: an alternative already chosen or asked for meets the group (mawk for awk, usr-is-merged for usrmerge | usr-is-merged).
        const pick = group.find(meets) ?? group.find((alt) => this.find(alt) ?? this.provider(alt, chosen)) ?? group[0];
        visit(pick, pkg.Package);
      }
    };
    const roots = new Set(names);
    const wanted = (name: string): boolean => chosen.has(name) || roots.has(name);
    const meets = (alt: string): boolean => wanted(alt) || (this.index().providers.get(alt) ?? []).some((p) => wanted(p.Package));
    for (const name of names) visit(name);
    return [...chosen.values()];
  }

  /** The newest `linux-image-<abi>-686-unsigned` kernel package. */
  findLatestKernel(): DebianKernelPackage {
    let best: DebianKernelPackage | undefined;
    for (const name of this.index().byName.keys()) {
      const m = KERNEL_NAME.exec(name);
      if (!m) continue;
      const pkg = this.require(name);
      const candidate = { ...pkg, kernelRelease: `${m[1]}-686` };
      // Version first (6.1.140-1 > 6.1.76-1); the ABI number in the name breaks a tie.
      if (
        !best ||
        compareDebianVersions(candidate.Version, best.Version) > 0 ||
        (compareDebianVersions(candidate.Version, best.Version) === 0 && compareDebianVersions(m[1], best.kernelRelease.slice(0, -4)) > 0)
      ) {
        best = candidate;
      }
    }
    if (!best) throw new DebianPackageNotFoundError("linux-image-*-686-unsigned", this.where);
    return best;
  }

  /** Downloads a package into the cache (verified against the index's SHA256 and Size); returns the cached file. */
  download(pkg: DebianPackage, onProgress?: DebianProgressOptions["onProgress"], signal?: AbortSignal): Promise<string> {
    return this.cache.fetch(`${this.mirrorUrl}/${pkg.Filename.replace(/^\/+/, "")}`, { sha256: pkg.SHA256, size: pkg.Size, onProgress, signal });
  }

  /** A package providing the virtual `name`: one chosen, else one asked for (`roots`), else the index's first. */
  private provider(name: string, chosen: ReadonlyMap<string, DebianPackage>, roots: ReadonlySet<string> = new Set()): DebianPackage | undefined {
    const list = this.index().providers.get(name);
    if (!list?.length) return undefined;
    const first = list.find((p) => roots.has(p.Package))?.Package ?? list[0].Package;
    return list.find((p) => chosen.get(p.Package) === p) ?? highest(list.filter((p) => p.Package === first));
  }

  private index(): { byName: Map<string, DebianPackage[]>; providers: Map<string, DebianPackage[]> } {
    if (!this.byName || !this.providers) throw new HangarError("The Debian package index is not loaded yet: call loadIndex() first.");
    return { byName: this.byName, providers: this.providers };
  }

  private async readRelease(url: string, signal: AbortSignal | undefined): Promise<Deb822Paragraph> {
    let res: Response;
    try {
      res = await fetch(url, { signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
      throw new DebianIndexError(`Reading ${url} failed: ${errorMessage(err)}${cause}.`, "Check the network connection and the mirror URL (hangar.debianMirror / HANGAR_DEBIAN_MIRROR).");
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new DebianIndexError(
        `Reading ${url} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`,
        `Check that the mirror URL is the folder that holds dists/ and that it carries ${this.suite}.`,
      );
    }
    const paragraph = parseDeb822(await res.text())[0];
    if (!paragraph?.has("SHA256")) throw new DebianIndexError(`${url} is not a Debian Release file (it has no SHA256 list).`, "Check that the mirror URL points at a Debian mirror.");
    return paragraph;
  }
}

/**
 * Splits a relationship field (deb-control(5)):
 * `libc6 (>= 2.34), libgcc-s1 | libgcc1, perl:any [!i386] <!nocheck>`
 * → [["libc6"], ["libgcc-s1", "libgcc1"], ["perl"]]. Version constraints,
 * architecture qualifiers and restriction lists are dropped.
 */
export function parseRelations(field: string): string[][] {
  const groups: string[][] = [];
  for (const group of field.split(",")) {
    const alternatives = group
      .split("|")
      .map((alt) =>
        alt
          .replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>/g, "")
          .trim()
          .replace(/:[a-z0-9-]+$/, ""),
      )
      .filter(Boolean);
    if (alternatives.length) groups.push(alternatives);
  }
  return groups;
}

/** The Release file's SHA256 lines: ` <digest> <size> <path>`. */
function releaseSha256(release: Deb822Paragraph): Array<{ sha256: string; size: number; path: string }> {
  const out: Array<{ sha256: string; size: number; path: string }> = [];
  for (const line of (release.get("SHA256") ?? "").split("\n")) {
    const m = /^([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)$/.exec(line.trim());
    if (m) out.push({ sha256: m[1].toLowerCase(), size: Number(m[2]), path: m[3] });
  }
  return out;
}

function highest(list: DebianPackage[] | undefined): DebianPackage | undefined {
  if (!list?.length) return undefined;
  return list.reduce((best, p) => (compareDebianVersions(p.Version, best.Version) > 0 ? p : best));
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
