import type { ConfigRecord, Json, JsonObject, MachineRecord, NetworkRecord, ProviderRecord, ProvisionerRecord, RecorderRecord, SyncedFolderRecord } from "./vagrant-record";

/**
 * A machine's configuration after Vagrant's merge rules: global settings, then
 * the machine's define blocks over them. This is what `hangar validate --json`
 * prints and what the machine layer consumes.
 */
export interface MachineConfig {
  name: string;
  /** Line of its `config.vm.define` (of `Vagrant.configure` for the implicit default machine). */
  line: number | null;
  primary: boolean;
  autostart: boolean;
  box: string | null;
  boxVersion: string | null;
  /** config.vm.box_url: where `up` adds the box from when it is not installed (a string or an array, tried in order). */
  boxUrls: string[];
  /** config.vm.usable_port_range: where auto_correct moves a taken host port (inclusive; Vagrant's default 2200..2250). */
  usablePortRange: [number, number];
  boxCheckUpdate: boolean;
  hostname: string | null;
  bootTimeout: number;
  postUpMessage: string | null;
  /** MiB, from the hangar provider block, else the first of virtualbox, libvirt, vmware_desktop, hyperv, parallels. */
  memory: number | null;
  cpus: number | null;
  /** `config.vm.disk :disk, size: "…", primary: true`: the root disk's size in bytes (boxes whose root is a disk), or null for the box's. */
  primaryDiskBytes: number | null;
  forwardedPorts: ForwardedPort[];
  privateNetworks: PrivateNetwork[];
  publicNetworks: PublicNetwork[];
  syncedFolders: SyncedFolder[];
  provisioners: Provisioner[];
  /** Raw settings per provider block (merged global then machine), calls such as `customize` as arrays of arguments. */
  providers: Record<string, JsonObject>;
  ssh: JsonObject;
}

export interface ForwardedPort {
  guest: number;
  host: number;
  hostIp: string | null;
  guestIp: string | null;
  protocol: "tcp" | "udp";
  id: string;
  autoCorrect: boolean;
}

export interface PrivateNetwork {
  ip: string | null;
  type: "static" | "dhcp";
  netmask: string | null;
}

export interface PublicNetwork {
  ip: string | null;
  bridge: Json;
}

export interface SyncedFolder {
  id: string;
  hostPath: string;
  guestPath: string;
  disabled: boolean;
  type: string | null;
  owner: string | null;
  group: string | null;
  mountOptions: string[];
  exclude: string[];
  rsyncArgs: string[] | null;
}

export interface Provisioner {
  type: string;
  name: string | null;
  inline: string | null;
  path: string | null;
  /** A String is appended to the command as written (the guest's shell splits it); an Array is quoted element by element. */
  args: string | string[];
  env: Record<string, string>;
  run: string;
  privileged: boolean;
  /** Where the shell script is uploaded in the guest (Vagrant's default /tmp/vagrant-shell). */
  uploadPath: string;
  /** Keep the script's line endings (otherwise CRLF becomes LF). */
  binary: boolean;
  keepColor: boolean;
  /** Env values are hidden (*****) in the output. */
  sensitive: boolean;
  /** Reconnect after the script (new logins see e.g. changed groups). */
  reset: boolean;
  reboot: boolean;
  /** Expected digests of a script `path` downloaded over http(s): md5, sha1, sha256, sha384, sha512. */
  checksums: Record<string, string>;
  source: string | null;
  destination: string | null;
  /** Every option as written, for provisioner types Hangar passes through. */
  options: JsonObject;
}

/** Where each merged item was declared, for diagnostics. */
export interface Declared<T> {
  value: T;
  line: number | null;
}

/** A provisioner with its recorded options, block settings merged in. */
export function provisionerOptions(p: ProvisionerRecord): { type: string; name: string | null; options: JsonObject } {
  const options: JsonObject = { ...p.options, ...p.block.settings };
  // `preserve_order` only steers merging (see mergeProvisioners); Vagrant
  // removes it before the provisioner's own settings are checked.
  delete options.preserve_order;
  // provision "shell", … → type shell; provision "name", type: "shell", … → a named provisioner.
  const typed = typeof options.type === "string";
  const type = typed ? (options.type as string) : p.name;
  // The provisioner's own name wins over a shell's `name:` option (Vagrant's mixin_provisioners).
  const name = typed ? p.name : typeof options.name === "string" ? options.name : null;
  return { type, name, options };
}

const str = (v: Json | undefined): string | null => (v === undefined || v === null ? null : String(v));
const num = (v: Json | undefined): number | null => {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+$/.test(v.trim())) return Number(v.trim());
  return null;
};
/** Ruby's truthiness: everything but nil and false. */
const truthy = (v: Json | undefined): boolean => v !== undefined && v !== null && v !== false;
const strList = (v: Json | undefined): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map((x) => String(x)) : [String(v)]);

/** A Ruby range of ports as the recorder writes it ("2200..2250", or "2200...2251" without its end); undefined when it is not one. */
export function portRange(v: Json | undefined): [number, number] | undefined {
  const m = typeof v === "string" ? /^(\d+)(\.\.\.?)(\d+)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[3]) - (m[2] === "..." ? 1 : 0);
  return lo >= 1 && hi <= 65535 && lo <= hi ? [lo, hi] : undefined;
}

export function forwardedPortId(options: JsonObject): string {
  // Vagrant's default id: host IP + protocol + host port, so a later forward of
  // the same host port (e.g. in a define block) replaces the earlier one.
  return typeof options.id === "string" ? options.id : `${str(options.host_ip) ?? ""}${str(options.protocol) ?? "tcp"}${str(options.host) ?? ""}`;
}

function mergeSettings(...records: Array<RecorderRecord | undefined>): JsonObject {
  return Object.assign({}, ...records.map((r) => r?.settings ?? {}));
}

/** Vagrant's id of a network: forwarded ports by `forwardedPortId`, others only by an explicit `id:` (else unique). */
function networkId(n: NetworkRecord): string | undefined {
  if (n.type === "forwarded_port") return `fp:${forwardedPortId(n.options)}`;
  return typeof n.options.id === "string" ? `${n.type}:${n.options.id}` : undefined;
}

/**
 * One config object's networks. A network declared again in the same config
 * object with the same id updates the earlier one: Vagrant merges the new
 * options over the old (`@__networks[id][1].merge(options)`), so a forwarded
 * port re-declared with the same host port is one forward, not a conflict.
 */
function scopeNetworks(scope: NetworkRecord[]): NetworkRecord[] {
  const result: NetworkRecord[] = [];
  const index = new Map<string, number>();
  for (const n of scope) {
    const id = networkId(n);
    const at = id === undefined ? undefined : index.get(id);
    if (at !== undefined) result[at] = { ...n, options: { ...result[at].options, ...n.options } };
    else {
      if (id !== undefined) index.set(id, result.length);
      result.push(n);
    }
  }
  return result;
}

/** Across config objects (global, then the define block), a later network with the same id replaces the earlier one, in place. */
function mergeNetworks(global: NetworkRecord[], machine: NetworkRecord[]): NetworkRecord[] {
  const result: NetworkRecord[] = [];
  const index = new Map<string, number>();
  for (const n of [...scopeNetworks(global), ...scopeNetworks(machine)]) {
    const id = networkId(n);
    const at = id === undefined ? undefined : index.get(id);
    if (at !== undefined) result[at] = n;
    else {
      if (id !== undefined) index.set(id, result.length);
      result.push(n);
    }
  }
  return result;
}

/**
 * Synced folders are keyed by id (default: guest path); a later one's options
 * merge over the earlier. As in Vagrant's `synced_folder`: the guest path loses
 * a trailing "/", and every declaration that does not say `disabled:` enables
 * the folder (re-declaring a disabled folder turns it back on).
 */
function mergeSyncedFolders(global: SyncedFolderRecord[], machine: SyncedFolderRecord[]): SyncedFolderRecord[] {
  const byId = new Map<string, SyncedFolderRecord>();
  for (const f of [...global, ...machine]) {
    const guestPath = f.guestPath.length > 1 ? f.guestPath.replace(/\/$/, "") : f.guestPath;
    const options: JsonObject = { disabled: false, ...f.options };
    const id = typeof options.id === "string" ? options.id : guestPath;
    const before = byId.get(id);
    byId.set(id, { ...f, guestPath, options: before ? { ...before.options, ...options } : options });
  }
  // Vagrant's finalize! adds the default "." -> /vagrant last, and only when no
  // folder shares "." already (e.g. `synced_folder ".", "/srv/app"`).
  const folders = [...byId.values()];
  if (!byId.has("/vagrant") && !folders.some((f) => f.hostPath === ".")) folders.push({ hostPath: ".", guestPath: "/vagrant", options: { disabled: false }, line: null });
  return folders;
}

/** A named provisioner declared again merges into the earlier one: its options over the earlier's. */
function mergeProvisioner(earlier: ProvisionerRecord, later: ProvisionerRecord): ProvisionerRecord {
  const options: JsonObject = { ...provisionerOptions(earlier).options, ...provisionerOptions(later).options };
  // Vagrant keeps `preserve_order` on the provisioner until a later declaration sets it.
  const preserve = later.options.preserve_order ?? earlier.options.preserve_order;
  if (preserve !== undefined) options.preserve_order = preserve;
  // Keep the later's first argument: it is the name when `type:` is given.
  return { ...later, options, block: { settings: {}, lines: {}, calls: [], reads: [] } };
}

/** Vagrant's id of a provisioner: its name when declared `provision "name", type: …`; unnamed ones never merge. */
function provisionerId(p: ProvisionerRecord): string | null {
  return typeof p.options.type === "string" ? p.name : null;
}

/** One config object's provisioners: a named one declared again in it updates the first, in its place (Vagrant's `provision` finds it by name). */
function scopeProvisioners(scope: ProvisionerRecord[]): ProvisionerRecord[] {
  const result: ProvisionerRecord[] = [];
  for (const p of scope) {
    const name = provisionerId(p);
    const at = name === null ? -1 : result.findIndex((q) => provisionerId(q) === name);
    if (at >= 0) result[at] = { ...mergeProvisioner(result[at], p), line: result[at].line };
    else result.push(p);
  }
  return result;
}

/**
 * Global provisioners first, then the machine's. A machine provisioner with
 * the name of a global one overrides it as Vagrant's VMConfig#merge does: its
 * options merge over the global one's, and it runs in the machine's order,
 * the global one dropping out -- unless it says `preserve_order: true`, which
 * keeps the global position.
 */
function mergeProvisioners(global: ProvisionerRecord[], machine: ProvisionerRecord[]): ProvisionerRecord[] {
  const own = scopeProvisioners(machine);
  const result: ProvisionerRecord[] = [];
  for (const g of scopeProvisioners(global)) {
    const name = provisionerId(g);
    const at = name === null ? -1 : own.findIndex((p) => provisionerId(p) === name);
    if (at < 0) {
      result.push(g);
      continue;
    }
    const override = own[at];
    const merged = mergeProvisioner(g, override);
    if (override.options.preserve_order === true) {
      result.push(merged);
      own.splice(at, 1);
    } else own[at] = merged;
  }
  return [...result, ...own];
}

function mergeProviders(global: ProviderRecord[], machine: ProviderRecord[]): Record<string, JsonObject> {
  const providers: Record<string, JsonObject> = {};
  for (const p of [...global, ...machine]) {
    const merged: JsonObject = { ...(providers[p.name] ?? {}), ...p.block.settings };
    for (const call of p.block.calls) {
      const previous = merged[call.name];
      const list = Array.isArray(previous) ? previous : [];
      merged[call.name] = [...list, call.args.length === 1 ? call.args[0] : call.args];
    }
    providers[p.name] = merged;
  }
  return providers;
}

type Resources = { memory: number | null; cpus: number | null };

/** The modifyvm command of one `customize` call's arguments, as recorded: `[cmd]` or `[event, cmd]`. */
function modifyvmCommand(args: Json[]): Json[] | null {
  const [first, second] = args;
  const command = args.length === 1 ? first : typeof first === "string" && ["pre-import", "pre-boot"].includes(first) ? second : null;
  return Array.isArray(command) && command[0] === "modifyvm" ? command : null;
}

/**
 * VirtualBox's memory and CPUs. In Vagrant's VirtualBox config `vb.memory = N`
 * and `vb.cpus = N` are shorthands for `vb.customize ["modifyvm", :id,
 * "--memory", N]`, so all of them apply in the order they were declared --
 * global blocks, then the machine's, each in line order -- and the last wins.
 */
function virtualboxResources(blocks: ProviderRecord[]): Resources {
  const result: Resources = { memory: null, cpus: null };
  for (const p of blocks) {
    if (p.name !== "virtualbox") continue;
    const steps: Array<{ line: number; apply: () => void }> = [];
    for (const key of ["memory", "cpus"] as const) {
      if (p.block.settings[key] !== undefined) steps.push({ line: p.block.lines[key] ?? 0, apply: () => (result[key] = num(p.block.settings[key])) });
    }
    for (const call of p.block.calls) {
      const command = call.name === "customize" ? modifyvmCommand(call.args) : null;
      if (!command) continue;
      steps.push({
        line: call.line ?? 0,
        apply: () => {
          for (let i = 2; i + 1 < command.length; i++) {
            if (command[i] === "--memory") result.memory = num(command[i + 1]) ?? result.memory;
            if (command[i] === "--cpus") result.cpus = num(command[i + 1]) ?? result.cpus;
          }
        },
      });
    }
    // A stable sort: on one line, an assignment counts before a customize call.
    for (const step of steps.sort((a, b) => a.line - b.line)) step.apply();
  }
  return result;
}

/**
 * Memory/CPUs as Vagrant's providers would apply them: from the first provider
 * in `order` that sets either. VMware's `vmx` wins over its plain settings;
 * VirtualBox's are `virtualbox`, worked out in declaration order by
 * virtualboxResources (its `customize` calls are ordered with `memory =`).
 */
export function providerResources(providers: Record<string, JsonObject>, order: readonly string[], virtualbox: Resources): Resources {
  for (const name of order) {
    const p = providers[name];
    if (!p) continue;
    let { memory, cpus } = name === "virtualbox" ? virtualbox : { memory: num(p.memory), cpus: num(p.cpus) };
    if (name === "vmware_desktop" && p.vmx && typeof p.vmx === "object" && !Array.isArray(p.vmx)) {
      memory = num(p.vmx.memsize) ?? memory;
      cpus = num(p.vmx.numvcpus) ?? cpus;
    }
    if (memory !== null || cpus !== null) return { memory, cpus };
  }
  return { memory: null, cpus: null };
}

/** A size as Vagrant writes one ("20GB", "512 MB", or bytes): units are powers of 1024, as Vagrant::Util::Numeric reads them. */
export function diskSizeBytes(size: Json | undefined): number | null {
  if (typeof size === "number") return Number.isSafeInteger(size) && size > 0 ? size : null;
  const m = typeof size === "string" ? /^(\d+)\s?(KB|MB|GB|TB)?$/.exec(size.trim()) : null;
  if (!m) return null;
  const bytes = Number(m[1]) * 1024 ** { "": 0, KB: 1, MB: 2, GB: 3, TB: 4 }[m[2] ?? ""]!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

/** The machine's `config.vm.disk` calls (the machine's own after the global ones), as type, options and line. */
export function diskCalls(m: MergedMachine): Array<{ type: string; options: JsonObject; line: number | null }> {
  return [...m.global.vm.calls, ...(m.own?.vm.calls ?? [])]
    .filter((c) => c.name === "disk")
    .map((c) => {
      const [type, options] = c.args as [Json, Json];
      return { type: String(type ?? ""), options: options && typeof options === "object" && !Array.isArray(options) ? options : {}, line: c.line };
    });
}

/** The primary disk's size (the last `disk :disk, primary: true` wins, as a later setting does). */
function primaryDisk(m: MergedMachine): { bytes: number | null; line: number | null } | undefined {
  const last = diskCalls(m)
    .filter((d) => d.type === "disk" && d.options.primary === true)
    .pop();
  return last && { bytes: diskSizeBytes(last.options.size), line: last.line };
}

/** The merged raw pieces of one machine; kept for validation, which needs lines. */
export interface MergedMachine {
  name: string;
  options: JsonObject;
  line: number | null;
  global: ConfigRecord;
  own: ConfigRecord | null;
  vmSettings: JsonObject;
  networks: NetworkRecord[];
  syncedFolders: SyncedFolderRecord[];
  provisioners: ProvisionerRecord[];
  providers: Record<string, JsonObject>;
  /** VirtualBox memory/CPUs in declaration order (see virtualboxResources). */
  virtualbox: Resources;
}

/** `line`: where the machine is declared; the implicit "default" machine points at Vagrant.configure. */
export function mergeMachine(global: ConfigRecord, machine: MachineRecord | null, configureLine: number | null = null): MergedMachine {
  const own = machine?.config ?? null;
  return {
    name: machine?.name ?? "default",
    options: machine?.options ?? {},
    line: machine?.line ?? configureLine,
    global,
    own,
    vmSettings: mergeSettings(global.vm, own?.vm),
    networks: mergeNetworks(global.vm.networks, own?.vm.networks ?? []),
    syncedFolders: mergeSyncedFolders(global.vm.syncedFolders, own?.vm.syncedFolders ?? []),
    provisioners: mergeProvisioners(global.vm.provisioners, own?.vm.provisioners ?? []),
    providers: mergeProviders(global.vm.providers, own?.vm.providers ?? []),
    virtualbox: virtualboxResources([...global.vm.providers, ...(own?.vm.providers ?? [])]),
  };
}

export function toMachineConfig(m: MergedMachine, isOnlyMachine: boolean, memoryProviders: readonly string[]): MachineConfig {
  const vm = m.vmSettings;
  const { memory, cpus } = providerResources(m.providers, memoryProviders, m.virtualbox);
  const forwardedPorts: ForwardedPort[] = [];
  const privateNetworks: PrivateNetwork[] = [];
  const publicNetworks: PublicNetwork[] = [];
  for (const n of m.networks) {
    const o = n.options;
    if (n.type === "forwarded_port") {
      forwardedPorts.push({
        guest: num(o.guest) ?? 0,
        host: num(o.host) ?? 0,
        hostIp: str(o.host_ip),
        guestIp: str(o.guest_ip),
        protocol: o.protocol === "udp" ? "udp" : "tcp",
        id: forwardedPortId(o),
        autoCorrect: o.auto_correct === true,
      });
    } else if (n.type === "private_network") {
      privateNetworks.push({ ip: str(o.ip), type: o.type === "dhcp" ? "dhcp" : "static", netmask: typeof o.netmask === "number" ? String(o.netmask) : str(o.netmask) });
    } else if (n.type === "public_network") {
      publicNetworks.push({ ip: str(o.ip), bridge: o.bridge ?? null });
    }
  }
  return {
    name: m.name,
    line: m.line,
    primary: m.options.primary === true || isOnlyMachine,
    autostart: m.options.autostart !== false,
    box: str(vm.box),
    boxVersion: str(vm.box_version),
    boxUrls: strList(vm.box_url),
    usablePortRange: portRange(vm.usable_port_range) ?? [2200, 2250],
    boxCheckUpdate: vm.box_check_update !== false,
    hostname: str(vm.hostname),
    bootTimeout: num(vm.boot_timeout) ?? 300,
    postUpMessage: str(vm.post_up_message),
    memory,
    cpus,
    primaryDiskBytes: primaryDisk(m)?.bytes ?? null,
    forwardedPorts,
    privateNetworks,
    publicNetworks,
    syncedFolders: m.syncedFolders.map((f) => ({
      id: typeof f.options.id === "string" ? f.options.id : f.guestPath,
      hostPath: f.hostPath,
      guestPath: f.guestPath,
      disabled: f.options.disabled === true,
      type: str(f.options.type),
      owner: str(f.options.owner),
      group: str(f.options.group),
      mountOptions: strList(f.options.mount_options),
      exclude: strList(f.options.rsync__exclude),
      rsyncArgs: f.options.rsync__args === undefined ? null : strList(f.options.rsync__args),
    })),
    provisioners: m.provisioners.map((p) => {
      const { type, name, options: o } = provisionerOptions(p);
      const env: Record<string, string> = {};
      // Ruby's to_s of a value: nil is "".
      if (o.env && typeof o.env === "object" && !Array.isArray(o.env)) for (const [k, v] of Object.entries(o.env)) env[k] = v === null ? "" : String(v);
      const checksums: Record<string, string> = {};
      for (const k of ["md5", "sha1", "sha256", "sha384", "sha512"]) if (typeof o[k] === "string") checksums[k] = o[k];
      return {
        type,
        name,
        inline: str(o.inline),
        path: str(o.path),
        // Vagrant keeps a String (or Integer) as one string and maps an Array's elements to strings.
        args: o.args === undefined || o.args === null ? [] : Array.isArray(o.args) ? o.args.map((x) => String(x)) : String(o.args),
        env,
        run: str(o.run) ?? "once",
        privileged: o.privileged === undefined || truthy(o.privileged),
        uploadPath: str(o.upload_path) || "/tmp/vagrant-shell",
        binary: truthy(o.binary),
        keepColor: truthy(o.keep_color),
        sensitive: truthy(o.sensitive),
        reset: truthy(o.reset),
        reboot: truthy(o.reboot),
        checksums,
        source: str(o.source),
        destination: str(o.destination),
        options: o,
      };
    }),
    providers: m.providers,
    ssh: mergeSettings(m.global.ssh, m.own?.ssh),
  };
}
