import { existsSync, statSync } from "node:fs";
import { isIP } from "node:net";
import * as path from "node:path";
import { diskCalls, diskSizeBytes, forwardedPortId, portRange, provisionerOptions, type MergedMachine } from "./machine-config";
import type { ConfigRecord, Json, NetworkRecord, RecorderRecord } from "./vagrant-record";
import {
  FILE_PROVISIONER_OPTIONS,
  FORWARDED_PORT_OPTIONS,
  NAMESPACES,
  PRIVATE_NETWORK_OPTIONS,
  PUBLIC_NETWORK_OPTIONS,
  SHELL_PROVISIONER_OPTIONS,
  SYNCED_FOLDER_OPTIONS,
  type SettingDoc,
} from "./vagrant-settings";
import { PROVISIONER_TYPES } from "./provisioner-types";
import { parseVersionConstraint } from "../boxes/box-version";
import { privateNetworkRequest } from "../network/private-addresses";
import { errorMessage } from "../util/errors";

/** One problem found in a Vagrantfile, like a line of `vagrant validate`. */
export interface VagrantfileIssue {
  severity: "error" | "warning";
  message: string;
  /** 1-based line in the Vagrantfile, when known. */
  line: number | null;
  /** The machine it concerns; null for problems of the file as a whole. */
  machine: string | null;
}

const names = (docs: SettingDoc[]): Set<string> => new Set(docs.map((d) => d.name));

/**
 * Checks one merged machine the way `vagrant validate` does. `dir` is the
 * Vagrantfile's folder (relative host paths resolve against it).
 */
export function validateMachine(m: MergedMachine, dir: string): VagrantfileIssue[] {
  const issues: VagrantfileIssue[] = [];
  const error = (message: string, line: number | null): void => void issues.push({ severity: "error", message, line, machine: m.name });
  const warn = (message: string, line: number | null): void => void issues.push({ severity: "warning", message, line, machine: m.name });

  if (typeof m.vmSettings.box !== "string" || !m.vmSettings.box.trim()) {
    error(`A box must be specified for machine '${m.name}': set config.vm.box.`, m.line);
  }

  // One host port used by two forwarded ports. m.networks is merged by id as
  // Vagrant does, so a forward re-declared with the same host IP, protocol and
  // host port (its default id) is one forward; only forwards with different
  // ids can collide -- in one scope or across global and define block.
  const hostPorts = new Map<string, string>();
  for (const n of m.networks) issues.push(...validateNetwork(n, m.name));
  for (const n of m.networks.filter((x) => x.type === "forwarded_port")) {
    if (n.options.host === undefined) continue;
    const key = `${n.options.host_ip ?? ""}${n.options.protocol ?? "tcp"}${rubyToI(n.options.host) ?? ""}`;
    const id = forwardedPortId(n.options);
    if (hostPorts.has(key) && hostPorts.get(key) !== id) {
      error(`Forwarded port '${String(n.options.host)}' (host port) is declared multiple times with the protocol '${String(n.options.protocol ?? "tcp")}'.`, n.line);
    }
    hostPorts.set(key, id);
  }

  for (const f of m.syncedFolders) {
    for (const key of Object.keys(f.options)) {
      if (!names(SYNCED_FOLDER_OPTIONS).has(key) && !/^[a-z]+__/.test(key)) error(`Unknown synced folder option '${key}' for ${f.guestPath}.`, f.line);
    }
    if (f.options.disabled === true) continue;
    if (!f.guestPath.startsWith("/")) error(`The guest path of a synced folder must be absolute: '${f.guestPath}'.`, f.line);
    const host = path.resolve(dir, expandHome(f.hostPath));
    if (f.options.create !== true && !existsSync(host)) error(`The host path of the shared folder is missing: ${f.hostPath}`, f.line);
  }

  for (const p of m.provisioners) {
    const { type, name, options } = provisionerOptions(p);
    const label = name ? ` '${name}'` : "";
    if (!PROVISIONER_TYPES.has(type)) {
      error(`The '${type}' provisioner could not be found.`, p.line);
      continue;
    }
    const run = options.run;
    if (run !== undefined && !["once", "always", "never"].includes(String(run))) error(`Provisioner${label || ` (${type})`}: run must be "once", "always" or "never", not '${String(run)}'.`, p.line);
    if (type === "shell") {
      unknownOptions(options, SHELL_PROVISIONER_OPTIONS, `shell provisioner`, p.line, issues, m.name);
      const set = (v: Json | undefined): boolean => v !== undefined && v !== null && v !== false;
      const hasInline = set(options.inline);
      const hasPath = set(options.path);
      // As Vagrant's shell config checks: a provisioner that only resets or reboots needs no script.
      if (hasInline && hasPath) error(`Shell provisioner${label}: only one of \`path\` or \`inline\` may be set.`, p.line);
      else if (!hasInline && !hasPath && !set(options.reset) && !set(options.reboot)) error(`Shell provisioner${label}: one of \`path\` or \`inline\` must be set.`, p.line);
      if (hasPath && typeof options.path === "string" && !/^(https?|ftp):\/\//i.test(options.path) && !isFile(path.resolve(dir, expandHome(options.path)))) {
        error(`\`path\` for shell provisioner does not exist on the host system: ${path.resolve(dir, expandHome(options.path))}`, p.line);
      }
      if (options.env !== undefined && options.env !== null && (typeof options.env !== "object" || Array.isArray(options.env))) error("The shell provisioner's `env' option must be a hash.", p.line);
      const arg = (a: Json): boolean => typeof a === "string" || (typeof a === "number" && Number.isInteger(a));
      if (options.args !== undefined && options.args !== null && !(arg(options.args) || (Array.isArray(options.args) && options.args.every(arg))))
        error("Shell provisioner `args` must be a string or array.", p.line);
    } else if (type === "file") {
      unknownOptions(options, FILE_PROVISIONER_OPTIONS, "file provisioner", p.line, issues, m.name);
      if (typeof options.source !== "string") error(`File provisioner${label}: \`source\` must be set.`, p.line);
      // As Vagrant's file provisioner config checks: the source must exist on the host.
      else if (!existsSync(path.resolve(dir, expandHome(options.source)))) error(`File upload source file ${path.resolve(dir, expandHome(options.source))} must exist.`, p.line);
      if (typeof options.destination !== "string") error(`File provisioner${label}: \`destination\` must be set.`, p.line);
    } else {
      warn(`Hangar runs shell and file provisioners only; the ${type} provisioner will be skipped.`, p.line);
    }
  }

  for (const [provider, settings] of Object.entries(m.providers)) {
    for (const key of ["memory", "cpus"]) {
      const v = settings[key];
      if (v !== undefined && !(typeof v === "number" && Number.isInteger(v) && v > 0) && !(typeof v === "string" && /^\d+$/.test(v) && Number(v) > 0)) {
        const p = [...m.global.vm.providers, ...(m.own?.vm.providers ?? [])].find((x) => x.name === provider);
        error(`${provider} provider: ${key} must be a positive whole number, not ${JSON.stringify(v)}.`, p?.block.lines[key] ?? p?.line ?? null);
      }
    }
  }

  const vmLine = (key: string): number | null => m.own?.vm.lines[key] ?? m.global.vm.lines[key] ?? null;
  const timeout = m.vmSettings.boot_timeout;
  if (timeout !== undefined && !(typeof timeout === "number" && timeout > 0))
    error(`config.vm.boot_timeout must be a positive number of seconds, not ${JSON.stringify(timeout)}.`, vmLine("boot_timeout"));
  const range = m.vmSettings.usable_port_range;
  if (range !== undefined && !portRange(range)) error(`config.vm.usable_port_range must be a range of host ports such as 2200..2250, not ${JSON.stringify(range)}.`, vmLine("usable_port_range"));
  const boxVersion = m.vmSettings.box_version;
  if (boxVersion !== undefined && boxVersion !== null) {
    try {
      parseVersionConstraint(String(boxVersion));
    } catch (err) {
      error(err instanceof Error ? err.message : String(err), vmLine("box_version"));
    }
  }
  for (const d of diskCalls(m)) {
    if (!["disk", "dvd", "floppy"].includes(d.type)) error(`config.vm.disk takes a type of :disk, :dvd or :floppy, not ${JSON.stringify(d.type)}.`, d.line);
    else if (d.options.size !== undefined && diskSizeBytes(d.options.size) === null)
      error(`config.vm.disk size must be a size such as "20GB" (KB, MB, GB or TB), not ${JSON.stringify(d.options.size)}.`, d.line);
    else if (d.type !== "disk" || d.options.primary !== true) warn(`Hangar's embedded machines have one disk: the ${d.type} ${JSON.stringify(d.options.name ?? "")} is not attached.`, d.line);
  }
  // The two duplicate-port checks can both see one pair; report it once.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** A leading `~` is the user's home, as Ruby's File.expand_path reads it. */
/** A regular file (Vagrant's Pathname#file?): a folder given as a script path is no script. */
function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function expandHome(p: string): string {
  return p.replace(/^~(?=$|\/)/, process.env.HOME ?? "~");
}

/**
 * Ruby's `to_i`, which Vagrant applies to forwarded ports before checking
 * them: 8080 and "8080" are the same port, "http" is 0 (invalid).
 */
function rubyToI(v: Json | undefined): number | null {
  if (typeof v === "number") return Math.trunc(v);
  if (typeof v === "string") {
    const m = /^\s*([+-]?\d+)/.exec(v);
    return m ? Number(m[1]) : 0;
  }
  return null;
}

function unknownOptions(options: Record<string, Json>, docs: SettingDoc[], what: string, line: number | null, issues: VagrantfileIssue[], machine: string): void {
  const known = names(docs);
  const bad = Object.keys(options).filter((k) => !known.has(k));
  if (bad.length) issues.push({ severity: "error", message: `${what}: The following settings shouldn't exist: ${bad.join(", ")}`, line, machine });
}

function validateNetwork(n: NetworkRecord, machine: string): VagrantfileIssue[] {
  const issues: VagrantfileIssue[] = [];
  const error = (message: string): void => void issues.push({ severity: "error", message, line: n.line, machine });
  const o = n.options;
  if (n.type === "forwarded_port") {
    unknownOptions(o, FORWARDED_PORT_OPTIONS, "forwarded_port", n.line, issues, machine);
    if (o.guest === undefined || o.host === undefined) error('Forwarded port definitions require a "host" and "guest" value.');
    for (const key of ["guest", "host"] as const) {
      const v = o[key];
      const port = rubyToI(v);
      if (v !== undefined && !(port !== null && port >= 1 && port <= 65535)) error(`Forwarded port '${JSON.stringify(v)}' (${key} port) is not a port number between 1 and 65535.`);
    }
    if (o.protocol !== undefined && o.protocol !== "tcp" && o.protocol !== "udp") error(`Forwarded port protocol must be "tcp" or "udp", not '${String(o.protocol)}'.`);
    for (const key of ["host_ip", "guest_ip"] as const) {
      if (typeof o[key] === "string" && !isIP(o[key] as string) && o[key] !== "localhost") error(`The IP address '${String(o[key])}' (${key}) is not valid.`);
    }
  } else if (n.type === "private_network" || n.type === "public_network") {
    unknownOptions(o, n.type === "private_network" ? PRIVATE_NETWORK_OPTIONS : PUBLIC_NETWORK_OPTIONS, n.type, n.line, issues, machine);
    if (o.ip !== undefined && (typeof o.ip !== "string" || !isIP(o.ip))) error(`The IP address '${String(o.ip)}' is not valid.`);
    if (n.type === "private_network" && o.ip === undefined && o.type !== "dhcp") error('A private network needs an IP address (ip: "192.168.56.10") or type: "dhcp".');
    else if (n.type === "private_network" && (o.ip === undefined || (typeof o.ip === "string" && isIP(o.ip) === 4))) {
      // The address and netmask Hangar's switch would give the machine (IPv6 ones are skipped at `up`, with a warning).
      const netmask = typeof o.netmask === "number" ? String(o.netmask) : typeof o.netmask === "string" ? o.netmask : null;
      try {
        privateNetworkRequest({ ip: typeof o.ip === "string" ? o.ip : null, type: o.type === "dhcp" ? "dhcp" : "static", netmask });
      } catch (err) {
        error(errorMessage(err));
      }
    }
    if (o.type !== undefined && !["dhcp", "static"].includes(String(o.type))) error(`Network type '${String(o.type)}' is invalid: use "dhcp" or "static".`);
  } else {
    error(`Network type '${n.type}' is invalid. Please use a valid network type: forwarded_port, private_network or public_network.`);
  }
  return issues;
}

/**
 * Settings no Vagrant namespace has, like `vagrant validate`'s "The following
 * settings shouldn't exist", and plugin sections. Checked per config object
 * (global, and each define block's) so lines point at the right place.
 */
export function validateConfigNames(config: ConfigRecord, machine: string | null): VagrantfileIssue[] {
  const issues: VagrantfileIssue[] = [];
  for (const [ns, docs] of Object.entries(NAMESPACES)) {
    const record = config[ns as keyof ConfigRecord] as RecorderRecord | undefined;
    if (!record) continue;
    const known = names(docs);
    const bad = new Map<string, number | null>();
    for (const key of Object.keys(record.settings)) if (!known.has(key)) bad.set(key, record.lines[key] ?? null);
    for (const r of record.reads) if (!known.has(r.name) && !bad.has(r.name)) bad.set(r.name, r.line);
    for (const c of record.calls) if (!known.has(c.name) && !bad.has(c.name)) bad.set(c.name, c.line);
    if (bad.size) {
      const firstLine = [...bad.values()].find((l) => l !== null) ?? null;
      issues.push({ severity: "error", message: `${ns}: The following settings shouldn't exist: ${[...bad.keys()].map((k) => `config.${ns}.${k}`).join(", ")}`, line: firstLine, machine });
    }
  }
  for (const u of config.unknownSections) {
    issues.push({
      severity: "error",
      message: `Unknown configuration section '${u.name}' (config.${u.name}): it belongs to a Vagrant plugin, which Hangar does not load. Guard it with \`if Vagrant.has_plugin?("…")\`.`,
      line: u.line,
      machine,
    });
  }
  return issues;
}
