import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";

/** No network answers to the reference (API: 404). */
export class NetworkNotFoundError extends HangarError {
  constructor(readonly ref: string) {
    super(`network ${ref} not found`);
  }
}
/** The network is in use, pre-defined, or its name or subnet is taken (API: 409). */
export class NetworkConflictError extends HangarError {}
/** A request the engine cannot take as given (API: 400). */
export class NetworkInvalidError extends HangarError {}

/** A network as the engine keeps it (the fields of Docker's NetworkResource that do not change with its endpoints). */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Driver: "bridge" | "host" | "null";
  Internal: boolean;
  Attachable: boolean;
  /** IPv4 subnet in CIDR form and its gateway (the bridge's own address); none for host and null. */
  Subnet?: string;
  Gateway?: string;
  /** The Linux bridge in the engine machine. */
  Bridge?: string;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** A container's place on a network while it runs (Docker's EndpointSettings, the parts the guest needs). */
export interface Endpoint {
  networkId: string;
  endpointId: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  bridge: string;
}

const PREDEFINED = ["bridge", "host", "none"];
/** Docker's default address pools: 172.17/16 for the default bridge, then 172.18/16 … 172.31/16, then 192.168.x/20. */
const DEFAULT_BRIDGE_SUBNET = "172.17.0.0/16";

/**
 * Docker's networks on the engine: the three pre-defined ones (`bridge` on
 * docker0 172.17.0.0/16, `host`, `none`) and user-defined bridge networks,
 * kept in HANGAR_HOME/engine/networks.json (written atomically). Addresses
 * are handed out while containers run, lowest free first after the gateway,
 * as Docker's default IPAM does.
 */
export class NetworkStore {
  private readonly leases = new Map<string, Map<string, string>>(); // network ID → IP → container ID

  private constructor(
    private readonly file: string,
    private readonly networks: NetworkRecord[],
  ) {}

  static async open(engineRoot: string): Promise<NetworkStore> {
    const file = path.join(engineRoot, "networks.json");
    const saved = JSON.parse(await fs.readFile(file, "utf8").catch(() => "[]")) as NetworkRecord[];
    const store = new NetworkStore(file, saved);
    const created = new Date().toISOString();
    const builtin: NetworkRecord[] = [
      {
        Name: "bridge",
        Id: randomBytes(32).toString("hex"),
        Created: created,
        Driver: "bridge",
        Internal: false,
        Attachable: false,
        Subnet: DEFAULT_BRIDGE_SUBNET,
        Gateway: "172.17.0.1",
        Bridge: "docker0",
        Options: {
          "com.docker.network.bridge.default_bridge": "true",
          "com.docker.network.bridge.name": "docker0",
          "com.docker.network.bridge.enable_icc": "true",
          "com.docker.network.driver.mtu": "1500",
        },
        Labels: {},
      },
      { Name: "host", Id: randomBytes(32).toString("hex"), Created: created, Driver: "host", Internal: false, Attachable: false, Options: {}, Labels: {} },
      { Name: "none", Id: randomBytes(32).toString("hex"), Created: created, Driver: "null", Internal: false, Attachable: false, Options: {}, Labels: {} },
    ];
    let changed = false;
    for (const b of builtin) {
      if (!store.networks.some((n) => n.Name === b.Name)) {
        store.networks.push(b);
        changed = true;
      }
    }
    if (changed) await store.save();
    return store;
  }

  list(): NetworkRecord[] {
    return [...this.networks];
  }

  /** By full ID, unique ID prefix, or name (names first, as Docker resolves them). */
  get(ref: string): NetworkRecord {
    const byName = this.networks.find((n) => n.Name === ref);
    if (byName) return byName;
    const exact = this.networks.find((n) => n.Id === ref);
    if (exact) return exact;
    const matches = /^[0-9a-f]+$/.test(ref) ? this.networks.filter((n) => n.Id.startsWith(ref)) : [];
    if (matches.length > 1) throw new NetworkInvalidError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    if (!matches.length) throw new NetworkNotFoundError(ref);
    return matches[0];
  }

  isPredefined(n: NetworkRecord): boolean {
    return PREDEFINED.includes(n.Name);
  }

  async create(o: {
    name: string;
    driver?: string;
    internal?: boolean;
    attachable?: boolean;
    subnet?: string;
    gateway?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Promise<NetworkRecord> {
    if (!o.name || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw new NetworkInvalidError(`invalid network name "${o.name ?? ""}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const driver = o.driver || "bridge";
    if (driver !== "bridge") {
      if (driver === "host" || driver === "null") throw new NetworkConflictError(`only one instance of "${driver}" network is allowed`);
      throw new NetworkInvalidError(`plugin "${driver}" not found: Hangar's engine has the bridge driver only`);
    }
    if (this.networks.some((n) => n.Name === o.name)) throw new NetworkConflictError(`network with name ${o.name} already exists`);
    const subnet = o.subnet ? parseSubnet(o.subnet) : this.freeSubnet();
    for (const n of this.networks) {
      if (n.Subnet && overlaps(parseSubnet(n.Subnet), subnet))
        throw new NetworkConflictError(`Pool overlaps with other one on this address space: ${o.subnet ?? formatSubnet(subnet)} overlaps ${n.Name} (${n.Subnet})`);
    }
    const gateway = o.gateway ?? intToIp(subnet.base + 1);
    if (!inSubnet(ipToInt(gateway), subnet)) throw new NetworkInvalidError(`gateway ${gateway} is not in subnet ${formatSubnet(subnet)}`);
    const id = randomBytes(32).toString("hex");
    const record: NetworkRecord = {
      Name: o.name,
      Id: id,
      Created: new Date().toISOString(),
      Driver: "bridge",
      Internal: !!o.internal,
      Attachable: !!o.attachable,
      Subnet: formatSubnet(subnet),
      Gateway: gateway,
      Bridge: `br-${id.slice(0, 12)}`,
      Options: o.options ?? {},
      Labels: o.labels ?? {},
    };
    this.networks.push(record);
    await this.save();
    return record;
  }

  /** Removes a user-defined network; `inUse` names a container still on it. */
  async remove(ref: string, inUse?: string): Promise<NetworkRecord> {
    const n = this.get(ref);
    if (this.isPredefined(n)) throw new NetworkConflictError(`${n.Name} is a pre-defined network and cannot be removed`);
    if (inUse) throw new NetworkConflictError(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${inUse})`);
    this.networks.splice(this.networks.indexOf(n), 1);
    this.leases.delete(n.Id);
    await this.save();
    return n;
  }

  /** An address on a bridge network for a starting container: the requested one, or the lowest free. */
  lease(networkId: string, containerId: string, requested?: string): Endpoint {
    const n = this.networks.find((x) => x.Id === networkId);
    if (!n) throw new NetworkNotFoundError(networkId);
    if (n.Driver !== "bridge" || !n.Subnet || !n.Gateway || !n.Bridge) throw new NetworkInvalidError(`network ${n.Name} gives containers no addresses`);
    const subnet = parseSubnet(n.Subnet);
    const used = this.leases.get(n.Id) ?? new Map<string, string>();
    this.leases.set(n.Id, used);
    let ip: string | undefined;
    if (requested) {
      if (this.isPredefined(n)) throw new NetworkInvalidError("user specified IP address is supported on user defined networks only");
      if (!inSubnet(ipToInt(requested), subnet)) throw new NetworkInvalidError(`no configured subnet contains IP address ${requested}`);
      const holder = used.get(requested);
      if (requested === n.Gateway || (holder && holder !== containerId)) throw new NetworkConflictError(`Address already in use: ${requested}`);
      ip = requested;
    } else {
      const gw = ipToInt(n.Gateway);
      const size = 2 ** (32 - subnet.prefix);
      for (let i = 1; i < size - 1 && !ip; i++) {
        const candidate = (subnet.base + i) >>> 0;
        const text = intToIp(candidate);
        if (candidate !== gw && !used.has(text)) ip = text;
      }
      if (!ip) throw new NetworkConflictError(`no available IPv4 addresses on network ${n.Name}`);
    }
    used.set(ip, containerId);
    return { networkId: n.Id, endpointId: randomBytes(32).toString("hex"), ip, prefixLen: subnet.prefix, gateway: n.Gateway, mac: macFor(ip), bridge: n.Bridge };
  }

  /** Gives a stopped container's addresses back (on one network, or all). */
  release(containerId: string, networkId?: string): void {
    for (const [id, used] of this.leases) if (!networkId || id === networkId) for (const [ip, holder] of used) if (holder === containerId) used.delete(ip);
  }

  private freeSubnet(): Subnet {
    const taken = this.networks.filter((n) => n.Subnet).map((n) => parseSubnet(n.Subnet!));
    const pools: Subnet[] = [];
    for (let b = 18; b <= 31; b++) pools.push({ base: ipToInt(`172.${b}.0.0`), prefix: 16 });
    for (let c = 0; c < 256; c += 16) pools.push({ base: ipToInt(`192.168.${c}.0`), prefix: 20 });
    const free = pools.find((p) => !taken.some((t) => overlaps(t, p)));
    if (!free) throw new NetworkConflictError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    return free;
  }

  private async save(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(this.networks, null, 2) + "\n");
  }
}

interface Subnet {
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new NetworkInvalidError(`invalid IPv4 address: ${ip}`);
  return parts.reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 30 || Number(m[2]) < 8) throw new NetworkInvalidError(`invalid subnet ${cidr}: give an IPv4 CIDR with a prefix from /8 to /30, such as 172.30.0.0/16`);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: (ipToInt(m[1]) & mask) >>> 0, prefix };
}

function formatSubnet(s: Subnet): string {
  return `${intToIp(s.base)}/${s.prefix}`;
}

function inSubnet(ip: number, s: Subnet): boolean {
  const mask = (~0 << (32 - s.prefix)) >>> 0;
  return (ip & mask) >>> 0 === s.base;
}

function overlaps(a: Subnet, b: Subnet): boolean {
  return inSubnet(a.base, b) || inSubnet(b.base, a);
}

/** Docker's MAC for an address: 02:42 followed by the IPv4 bytes. */
function macFor(ip: string): string {
  return ["02", "42", ...ip.split(".").map((p) => Number(p).toString(16).padStart(2, "0"))].join(":");
}
