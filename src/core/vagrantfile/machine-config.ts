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
  boxUrl: string | null;
  boxCheckUpdate: boolean;
  hostname: string | null;
  bootTimeout: number;
  postUpMessage: string | null;
  /** MiB, from the hangar provider block, else the first of virtualbox, libvirt, vmware_desktop, hyperv, parallels. */
  memory: number | null;
  cpus: number | null;
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
  args: string[];
  env: Record<string, string>;
  run: string;
  privileged: boolean;
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
  // provision "shell", … → type shell; provision "name", type: "shell", … → a named provisioner.
  const typed = typeof options.type === "string";
  const type = typed ? (options.type as string) : p.name;
  const name = typeof options.name === "string" ? options.name : typed ? p.name : null;
  return { type, name, options };
}

const str = (v: Json | undefined): string | null => (v === undefined || v === null ? null : String(v));
const num = (v: Json | undefined): number | null => {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+$/.test(v.trim())) return Number(v.trim());
  return null;
};
const strList = (v: Json | undefined): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map((x) => String(x)) : [String(v)]);

export function forwardedPortId(options: JsonObject): string {
  // Vagrant's default id: host IP + protocol + host port, so a later forward of
  // the same host port (e.g. in a define block) replaces the earlier one.
  return typeof options.id === "string" ? options.id : `${str(options.host_ip) ?? ""}${str(options.protocol) ?? "tcp"}${str(options.host) ?? ""}`;
}

function mergeSettings(...records: Array<RecorderRecord | undefined>): JsonObject {
  return Object.assign({}, ...records.map((r) => r?.settings ?? {}));
}

/** Later networks with the same id replace earlier ones, in place. */
function mergeNetworks(global: NetworkRecord[], machine: NetworkRecord[]): NetworkRecord[] {
  const result: NetworkRecord[] = [];
  const index = new Map<string, number>();
  for (const n of [...global, ...machine]) {
    const id = n.type === "forwarded_port" ? `fp:${forwardedPortId(n.options)}` : typeof n.options.id === "string" ? `${n.type}:${n.options.id}` : undefined;
    if (id !== undefined && index.has(id)) result[index.get(id)!] = n;
    else {
      if (id !== undefined) index.set(id, result.length);
      result.push(n);
    }
  }
  return result;
}

/** Synced folders are keyed by id (default: guest path); a later one's options merge over the earlier. */
function mergeSyncedFolders(global: SyncedFolderRecord[], machine: SyncedFolderRecord[]): SyncedFolderRecord[] {
  const byId = new Map<string, SyncedFolderRecord>();
  const implicit: SyncedFolderRecord = { hostPath: ".", guestPath: "/vagrant", options: {}, line: null };
  byId.set("/vagrant", implicit);
  for (const f of [...global, ...machine]) {
    const id = typeof f.options.id === "string" ? f.options.id : f.guestPath;
    const before = byId.get(id);
    byId.set(id, before ? { ...f, options: { ...before.options, ...f.options } } : f);
  }
  return [...byId.values()];
}

/** Global provisioners first, then the machine's; a machine provisioner with the name of a global one replaces it in place. */
function mergeProvisioners(global: ProvisionerRecord[], machine: ProvisionerRecord[]): ProvisionerRecord[] {
  const result = [...global];
  for (const p of machine) {
    const name = provisionerOptions(p).name;
    const at = name === null ? -1 : result.findIndex((g) => provisionerOptions(g).name === name);
    if (at >= 0) result[at] = p;
    else result.push(p);
  }
  return result;
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

/** Memory/CPUs as Vagrant's providers would apply them; VirtualBox `customize` and VMware `vmx` win over plain settings. */
export function providerResources(providers: Record<string, JsonObject>, order: readonly string[]): { memory: number | null; cpus: number | null } {
  for (const name of order) {
    const p = providers[name];
    if (!p) continue;
    let memory = num(p.memory);
    let cpus = num(p.cpus);
    if (name === "virtualbox" && Array.isArray(p.customize)) {
      for (const c of p.customize) {
        if (!Array.isArray(c) || c[0] !== "modifyvm") continue;
        for (let i = 2; i + 1 < c.length; i++) {
          if (c[i] === "--memory") memory = num(c[i + 1]) ?? memory;
          if (c[i] === "--cpus") cpus = num(c[i + 1]) ?? cpus;
        }
      }
    }
    if (name === "vmware_desktop" && p.vmx && typeof p.vmx === "object" && !Array.isArray(p.vmx)) {
      memory = num(p.vmx.memsize) ?? memory;
      cpus = num(p.vmx.numvcpus) ?? cpus;
    }
    if (memory !== null || cpus !== null) return { memory, cpus };
  }
  return { memory: null, cpus: null };
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
  };
}

export function toMachineConfig(m: MergedMachine, isOnlyMachine: boolean, memoryProviders: readonly string[]): MachineConfig {
  const vm = m.vmSettings;
  const { memory, cpus } = providerResources(m.providers, memoryProviders);
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
      privateNetworks.push({ ip: str(o.ip), type: o.type === "dhcp" ? "dhcp" : "static", netmask: str(o.netmask) });
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
    boxUrl: str(vm.box_url),
    boxCheckUpdate: vm.box_check_update !== false,
    hostname: str(vm.hostname),
    bootTimeout: num(vm.boot_timeout) ?? 300,
    postUpMessage: str(vm.post_up_message),
    memory,
    cpus,
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
      if (o.env && typeof o.env === "object" && !Array.isArray(o.env)) for (const [k, v] of Object.entries(o.env)) env[k] = String(v);
      return {
        type,
        name,
        inline: str(o.inline),
        path: str(o.path),
        args: strList(o.args),
        env,
        run: str(o.run) ?? "once",
        privileged: o.privileged !== false,
        source: str(o.source),
        destination: str(o.destination),
        options: o,
      };
    }),
    providers: m.providers,
    ssh: mergeSettings(m.global.ssh, m.own?.ssh),
  };
}
