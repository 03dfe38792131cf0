import * as path from "node:path";
import { MountInvalidError } from "../volumes/volume-errors";
import { checkVolumeName } from "../volumes/volume-store";

/**
 * What a container asked to have mounted, from Docker's create body in its
 * three forms: HostConfig.Binds ("src:dst[:opts]", `docker run -v`),
 * HostConfig.Mounts (`--mount`), HostConfig.Tmpfs (`--tmpfs`), and
 * anonymous volumes for Config.Volumes (`-v /path`) and the image's VOLUMEs
 * where nothing else is mounted. Parsing only: no file is looked at and
 * nothing is created, so a bad spec changes nothing.
 */
export interface MountRequest {
  type: "volume" | "bind" | "tmpfs";
  /** volume: its name ("" for a new anonymous one); bind: the absolute host path; tmpfs: "". */
  source: string;
  /** Absolute and normalized, inside the container. */
  destination: string;
  readOnly: boolean;
  /** Docker's Mode in inspect's Mounts: the -v options as given ("ro", "z", …), "z" for a -v volume without any, "" otherwise. */
  mode: string;
  /** Do not fill an empty volume with the image's files at the destination (nocopy). */
  noCopy: boolean;
  /** A missing bind source is created (`-v`), not refused (`--mount`, unless CreateMountpoint). */
  createSource: boolean;
  /** tmpfs: `mount -o` options. */
  tmpfsOptions?: string;
  /** volume: labels a new volume gets (--mount volume-label=…). */
  labels?: Record<string, string>;
}

/** Docker's mount.Mount (API), the fields Hangar reads. */
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** The parts of a create body mounts come from; the JSON is the client's, so every shape is checked. */
export type MountHostConfig = { Binds?: unknown; Mounts?: unknown; Tmpfs?: unknown; VolumesFrom?: unknown; VolumeDriver?: unknown; [key: string]: unknown };
export type MountConfig = { Volumes?: unknown; [key: string]: unknown };

/** Options of `-v` that only name a consistency, SELinux label or propagation Hangar's mounts already have. */
const HARMLESS_OPTIONS = new Set(["z", "Z", "private", "rprivate", "consistent", "cached", "delegated"]);
/** Propagation needs mounts shared between the engine machine and the container, which 9p folders cannot give. */
const PROPAGATIONS = new Set(["shared", "rshared", "slave", "rslave"]);
/** Docker's default options for --tmpfs. */
const TMPFS_DEFAULTS = "nosuid,nodev,noexec";

export function mountRequests(config: MountConfig, host: MountHostConfig, imageVolumes: Record<string, unknown> | null | undefined = {}): MountRequest[] {
  const out: MountRequest[] = [];
  const add = (m: MountRequest): void => {
    if (out.some((o) => o.destination === m.destination)) throw new MountInvalidError(`Duplicate mount point: ${m.destination}`);
    out.push(m);
  };
  if (listOf(host.VolumesFrom, "HostConfig.VolumesFrom", "strings").length)
    throw new MountInvalidError("Hangar's engine does not support --volumes-from yet.", "Mount the same named volumes with -v name:/path instead.");
  if (host.VolumeDriver && host.VolumeDriver !== "local") throw new MountInvalidError(`Volume driver "${String(host.VolumeDriver)}" is not available: Hangar's engine has only the "local" driver.`);
  for (const spec of listOf(host.Binds, "HostConfig.Binds", "strings")) add(parseBind(spec as string));
  for (const m of listOf(host.Mounts, "HostConfig.Mounts", "objects")) add(parseApiMount(m as ApiMount));
  for (const [dest, options] of Object.entries(mapOf(host.Tmpfs, "HostConfig.Tmpfs"))) add(parseTmpfs(dest, options as string));
  // -v /path (the CLI sends it as Config.Volumes), then the image's VOLUMEs: anonymous volumes where nothing else is mounted.
  for (const dest of [...Object.keys(mapOf(config.Volumes, "Config.Volumes")), ...Object.keys(imageVolumes ?? {})]) {
    const destination = cleanDestination(dest, dest);
    if (out.some((o) => o.destination === destination)) continue;
    out.push({ type: "volume", source: "", destination, readOnly: false, mode: "", noCopy: false, createSource: false });
  }
  return out;
}

function listOf(value: unknown, field: string, of: "strings" | "objects"): unknown[] {
  if (value === undefined || value === null) return [];
  const ok = Array.isArray(value) && value.every((v) => (of === "strings" ? typeof v === "string" : typeof v === "object" && v !== null && !Array.isArray(v)));
  if (!ok) throw new MountInvalidError(`${field} must be a list of ${of}.`);
  return value;
}

function mapOf(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new MountInvalidError(`${field} must be a JSON object.`);
  return value as Record<string, unknown>;
}

/** One `-v` / Binds entry: `[src:]dst[:opts]`, src an absolute host path (a bind) or a volume name. */
export function parseBind(spec: string): MountRequest {
  if (typeof spec !== "string" || spec === "") throw new MountInvalidError("invalid volume specification: ''");
  let parts = spec.split(":");
  // A Windows host path ("C:\src:/dst") carries a colon of its own (only where the engine runs on Windows: elsewhere "a:/b" is a name and a path).
  if (process.platform === "win32" && /^[a-zA-Z]:[\\/]/.test(spec)) parts = [`${parts[0]}:${parts[1]}`, ...parts.slice(2)];
  if (parts.length > 3) throw new MountInvalidError(`invalid volume specification: '${spec}': too many colons`);
  if (parts.length === 1) return { type: "volume", source: "", destination: cleanDestination(parts[0], spec), readOnly: false, mode: "", noCopy: false, createSource: false };
  const [source, dest, modeText = ""] = parts;
  const destination = cleanDestination(dest, spec);
  const options = modeText === "" ? [] : modeText.split(",");
  let readOnly = false;
  let noCopy = false;
  let rw = 0;
  for (const o of options) {
    if (o === "ro" || o === "rw") {
      rw++;
      readOnly = o === "ro";
    } else if (o === "nocopy") noCopy = true;
    else if (PROPAGATIONS.has(o)) throw new MountInvalidError(`invalid volume specification: '${spec}': Hangar's engine gives mounts private propagation only (${o} is not supported).`);
    else if (!HARMLESS_OPTIONS.has(o)) throw new MountInvalidError(`invalid mode: ${o}`, `In '${spec}', use ro, rw or nocopy.`);
  }
  if (rw > 1) throw new MountInvalidError(`invalid mode: ${modeText}`, "Give either ro or rw, once.");
  const bind = source.startsWith("/") || path.isAbsolute(source);
  if (bind) {
    if (noCopy) throw new MountInvalidError(`invalid mode: ${modeText}`, "nocopy applies to volumes, not to bind mounts of host folders.");
    return { type: "bind", source: path.resolve(source), destination, readOnly, mode: modeText, noCopy: false, createSource: true };
  }
  if (source.startsWith(".") || source.includes("/") || source.includes("\\"))
    throw new MountInvalidError(
      `"${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  checkVolumeName(source);
  return { type: "volume", source, destination, readOnly, mode: modeText || "z", noCopy, createSource: false };
}

/** One `--mount` (HostConfig.Mounts entry). */
export function parseApiMount(m: ApiMount): MountRequest {
  if (typeof m !== "object" || m === null) throw new MountInvalidError("invalid mount config: each entry of HostConfig.Mounts must be an object.");
  const type = m.Type ?? "";
  const invalid = (why: string): MountInvalidError => new MountInvalidError(`invalid mount config for type "${type}": ${why}`);
  if (!m.Target) throw invalid("field Target must not be empty");
  const destination = cleanDestination(m.Target, m.Target);
  const readOnly = m.ReadOnly === true;
  switch (type) {
    case "volume": {
      if (m.BindOptions) throw invalid("field BindOptions must not be specified");
      if (m.TmpfsOptions) throw invalid("field TmpfsOptions must not be specified");
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== "local") throw invalid(`volume driver "${driver}" is not available: Hangar's engine has only the "local" driver`);
      if (Object.keys(m.VolumeOptions?.DriverConfig?.Options ?? {}).length) throw invalid("Hangar's engine keeps volumes as host folders and takes no volume driver options (volume-opt)");
      if (m.Source) checkVolumeName(m.Source);
      const labels = m.VolumeOptions?.Labels ?? undefined;
      return {
        type: "volume",
        source: m.Source ?? "",
        destination,
        readOnly,
        mode: "",
        noCopy: m.VolumeOptions?.NoCopy === true,
        createSource: false,
        ...(labels && Object.keys(labels).length ? { labels } : {}),
      };
    }
    case "bind": {
      if (m.VolumeOptions) throw invalid("field VolumeOptions must not be specified");
      if (m.TmpfsOptions) throw invalid("field TmpfsOptions must not be specified");
      if (!m.Source) throw invalid("field Source must not be empty");
      if (!(m.Source.startsWith("/") || path.isAbsolute(m.Source))) throw invalid(`invalid mount path: '${m.Source}' mount path must be absolute`);
      const propagation = m.BindOptions?.Propagation;
      if (propagation && PROPAGATIONS.has(propagation)) throw invalid(`Hangar's engine gives mounts private propagation only (${propagation} is not supported)`);
      return { type: "bind", source: path.resolve(m.Source), destination, readOnly, mode: "", noCopy: false, createSource: m.BindOptions?.CreateMountpoint === true };
    }
    case "tmpfs": {
      if (m.Source) throw invalid("field Source must not be specified");
      if (m.BindOptions) throw invalid("field BindOptions must not be specified");
      if (m.VolumeOptions) throw invalid("field VolumeOptions must not be specified");
      const size = m.TmpfsOptions?.SizeBytes;
      const mode = m.TmpfsOptions?.Mode;
      if (size !== undefined && (!Number.isInteger(size) || size < 0)) throw invalid("SizeBytes must be a whole number of bytes");
      if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) throw invalid("Mode must be a file mode (0 to 07777)");
      const opts = [readOnly ? "ro" : "", size ? `size=${size}` : "", mode !== undefined ? `mode=${mode.toString(8)}` : ""].filter(Boolean);
      return { type: "tmpfs", source: "", destination, readOnly, mode: "", noCopy: false, createSource: false, tmpfsOptions: ["nosuid", "nodev", ...opts].join(",") };
    }
    default:
      throw new MountInvalidError(`mount type "${type}" is not supported by Hangar's engine`, "Use volume, bind or tmpfs.");
  }
}

/** One `--tmpfs` (HostConfig.Tmpfs entry): destination and `mount -o` options. */
export function parseTmpfs(dest: string, options: unknown): MountRequest {
  const destination = cleanDestination(dest, dest);
  if (typeof options !== "string") throw new MountInvalidError(`The tmpfs options for ${dest} must be a string.`);
  const text = options.trim();
  // Handed to `mount -o` in the engine machine: only option-like text gets there.
  if (!/^[A-Za-z0-9_=.,:+-]*$/.test(text)) throw new MountInvalidError(`invalid tmpfs options for ${dest}: "${text}"`, "Give comma-separated mount options, as size=64m,mode=1777.");
  const list = text ? text.split(",").filter(Boolean) : [];
  const readOnly = list.includes("ro");
  return { type: "tmpfs", source: "", destination, readOnly, mode: "", noCopy: false, createSource: false, tmpfsOptions: [TMPFS_DEFAULTS, ...list].join(",") };
}

/** A destination as Docker requires it: absolute, not "/", normalized (so "/data/" and "/data/." are "/data"). */
export function cleanDestination(dest: string, spec: string): string {
  if (typeof dest !== "string" || !dest.startsWith("/"))
    throw new MountInvalidError(`invalid mount config: destination "${dest}" in '${spec}' is not an absolute path`, "Container paths start with /.");
  if (/[\0\n]/.test(dest)) throw new MountInvalidError(`invalid mount config: the destination in '${spec}' holds a control character.`);
  const clean = path.posix.normalize(dest).replace(/\/+$/, "");
  if (clean === "") throw new MountInvalidError(`invalid specification: destination can't be '/' in '${spec}'`);
  return clean;
}
