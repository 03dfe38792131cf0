import * as path from "node:path";
import { HangarError } from "../../util/errors";
import type { DebArchive, DebEntry } from "../debian/deb-archive";

/**
 * A Debian root file system assembled on the host from packages, the way
 * debootstrap's first stage leaves it: every package's files unpacked into a
 * merged-/usr tree (bookworm's packages still ship /bin, /sbin and /lib;
 * debootstrap makes those links to usr/ first and unpacks through them), and
 * dpkg's database saying each package is unpacked, with its maintainer
 * scripts in place, so the guest's second stage (`dpkg --configure -a`) runs
 * them for real. Nothing here runs package code on the host.
 */

/** The top-level folders bookworm merges into /usr (i386 has no lib32/lib64 of its own). */
export const MERGED_DIRS = ["bin", "sbin", "lib"] as const;

/** Where a packaged path lands in a merged-/usr tree: bin/x → usr/bin/x. */
export function mergedUsrPath(p: string): string {
  for (const d of MERGED_DIRS) if (p === d || p.startsWith(`${d}/`)) return `usr/${p}`;
  return p;
}

/** Control-archive members dpkg keeps in /var/lib/dpkg/info (all but `control`, which goes into status). */
const INFO_FILES = new Set(["preinst", "postinst", "prerm", "postrm", "config", "templates", "conffiles", "md5sums", "shlibs", "symbols", "triggers"]);
const SCRIPTS = new Set(["preinst", "postinst", "prerm", "postrm", "config"]);

/** The name dpkg files a package's info under: `pkg:arch` for Multi-Arch: same packages, else `pkg`. */
export function dpkgInfoName(control: ReadonlyMap<string, string>): string {
  const name = control.get("Package") ?? "";
  const arch = control.get("Architecture") ?? "";
  return control.get("Multi-Arch") === "same" && arch && arch !== "all" ? `${name}:${arch}` : name;
}

export interface RootfsOptions {
  /** The file times of what the builder adds itself (a fixed epoch: same inputs, same image). */
  mtime: number;
  signal?: AbortSignal;
  /** Called after each package is read. */
  onPackage?(done: number, total: number, name: string): void;
}

/**
 * The tree: the merged-/usr links, each package's data (later packages over
 * earlier ones, as dpkg would refuse but a first stage tolerates), and dpkg's
 * status, info files and lists. Returns entries by path, in insertion order.
 */
export async function assembleRootfs(debs: readonly DebArchive[], o: RootfsOptions): Promise<Map<string, DebEntry>> {
  const tree = new Map<string, DebEntry>();
  const dir = (p: string, mode = 0o755): void => void tree.set(p, { path: p, type: "directory", mode, uid: 0, gid: 0, mtime: o.mtime });
  const file = (p: string, content: string | Buffer, mode = 0o644): void => void tree.set(p, { path: p, type: "file", mode, uid: 0, gid: 0, mtime: o.mtime, content: Buffer.from(content) });
  for (const d of ["usr", "usr/bin", "usr/sbin", "usr/lib"]) dir(d);
  for (const d of MERGED_DIRS) tree.set(d, { path: d, type: "symlink", mode: 0o777, uid: 0, gid: 0, mtime: o.mtime, linkname: `usr/${d}` });
  for (const d of ["var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/lib/dpkg/alternatives", "var/lib/dpkg/parts"]) dir(d);

  const status: string[] = [];
  let done = 0;
  for (const deb of debs) {
    o.signal?.throwIfAborted();
    const name = deb.control.get("Package") ?? "";
    const info = dpkgInfoName(deb.control);
    const listed: string[] = ["/."];
    for await (const e of deb.entries({ signal: o.signal })) {
      listed.push(`/${e.path}`);
      const at = mergedUsrPath(e.path);
      // The merged folders themselves are links now; their entries in a package are the folders dpkg finds there.
      if ((MERGED_DIRS as readonly string[]).includes(e.path)) continue;
      const prior = tree.get(at);
      if (e.type === "directory" && prior?.type === "directory") continue; // a folder another package made already: keep it
      tree.set(at, { ...e, path: at, ...(e.type === "hardlink" && e.linkname ? { linkname: mergedUsrPath(e.linkname) } : {}) });
    }
    const control = deb.controlFiles.get("control")?.toString("utf8").trimEnd();
    if (!control || !/^Package: /m.test(control)) throw new HangarError(`${deb.file} has no control file.`);
    const conffiles = (deb.controlFiles.get("conffiles")?.toString("utf8") ?? "")
      .split("\n")
      .map((l) => l.trim())
      // "remove-on-upgrade" entries name files the package no longer ships.
      .filter((l) => l.startsWith("/"));
    // Unpacked, as dpkg --unpack leaves a package: configure (the guest's second stage) finishes it. A conffile
    // whose hash is "newconffile" is one dpkg has not seen before; configure records its real hash.
    const fields = [`Status: install ok unpacked`];
    if (conffiles.length) fields.push(`Conffiles:\n${conffiles.map((c) => ` ${c} newconffile`).join("\n")}`);
    status.push(insertAfterPackage(control, fields.join("\n")));
    for (const [member, content] of deb.controlFiles) {
      if (!INFO_FILES.has(member)) continue;
      file(`var/lib/dpkg/info/${info}.${member}`, content, SCRIPTS.has(member) ? 0o755 : 0o644);
    }
    file(`var/lib/dpkg/info/${info}.list`, listed.join("\n") + "\n");
    o.onPackage?.(++done, debs.length, name);
  }
  file("var/lib/dpkg/status", status.join("\n\n") + "\n");
  file("var/lib/dpkg/info/format", "1\n");
  for (const f of ["available", "diversions", "statoverride"]) file(`var/lib/dpkg/${f}`, "");
  return tree;
}

/** The control paragraph with `fields` after its Package line, where dpkg writes Status. */
function insertAfterPackage(control: string, fields: string): string {
  const lines = control.split("\n");
  const at = lines.findIndex((l) => l.startsWith("Package: "));
  lines.splice(at + 1, 0, fields);
  return lines.join("\n");
}

/** Parent folders of every entry, made when a package did not list them (dpkg would have). */
export function withParents(tree: Map<string, DebEntry>, mtime: number): Map<string, DebEntry> {
  for (const p of [...tree.keys()]) {
    for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d)) {
      if (tree.has(d)) break;
      tree.set(d, { path: d, type: "directory", mode: 0o755, uid: 0, gid: 0, mtime });
    }
  }
  return tree;
}
