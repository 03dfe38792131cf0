import { HOST_GATEWAY_IP } from "../../emulator/guest-nat";
import type { Duplex } from "node:stream";
import { PortInUseError, PortRelays } from "../../ports/port-relays";
import { HangarError } from "../../util/errors";
import { NetworkConflictError, NetworkInvalidError, type NetworkRecord, type NetworkStore } from "../networks/network-store";
import { guestInterface, hostsFile, type GuestInterface, type GuestNetwork } from "../runtime/container-network";

/** Docker's EndpointSettings: a container's place on one network (addresses only while it runs). */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** Docker's NetworkSettings (the top-level address fields mirror the default bridge's endpoint). */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: Record<string, PortBinding[] | null>;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** HostConfig's networking fields (-p, -P, --link, --dns*, --add-host, --network). */
export interface NetworkHostConfig {
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  PublishAllPorts?: boolean;
  Links?: string[] | null;
  Dns?: string[] | null;
  DnsSearch?: string[] | null;
  DnsOptions?: string[] | null;
  ExtraHosts?: string[] | null;
}

/** What the engine needs of a container record to network it. */
export interface NetworkedContainer {
  Id: string;
  Name: string;
  State: { Running: boolean };
  Config: { Hostname?: string; Domainname?: string; ExposedPorts?: Record<string, unknown> | null };
  HostConfig: NetworkHostConfig;
  NetworkSettings: NetworkSettings;
}

/** `docker run --network container:…` and similar: said plainly rather than half-done. */
export class NetworkUnsupportedError extends HangarError {}

/** A host listener of a published port, relayed to the container's address in the engine machine. */
export interface PortOpener {
  (ip: string, port: number): Promise<Duplex>;
}

/**
 * A container's networks, from `docker create` to its exit: which networks
 * (HostConfig.NetworkMode and NetworkingConfig), its addresses while it
 * runs, its /etc/hosts (links on the default bridge; on user-defined
 * networks every running peer by name, alias and short ID — Docker answers
 * those from its embedded DNS server, Hangar writes them into the file and
 * keeps it current), and its published ports on the host.
 */
export class ContainerNetworking {
  private readonly relays = new Map<string, PortRelays>();

  constructor(
    readonly store: NetworkStore,
    private readonly running: () => NetworkedContainer[],
  ) {}

  /** NetworkSettings for a new container; unknown networks and unsupported modes are refused before anything is made. */
  initialSettings(
    hostConfig: NetworkedContainer["HostConfig"],
    endpoints: Record<string, Partial<EndpointSettings>> | undefined,
    exposed: Record<string, unknown> | null | undefined,
  ): NetworkSettings {
    const mode = !hostConfig.NetworkMode || hostConfig.NetworkMode === "default" ? "bridge" : hostConfig.NetworkMode;
    if (mode.startsWith("container:"))
      throw new NetworkUnsupportedError(
        `Hangar's engine cannot share another container's network namespace yet (--network ${mode}).`,
        "Put both containers on one user-defined network instead: docker network create NET; docker run --network NET ...",
      );
    const primary = this.store.get(mode);
    // The CLI keys the endpoint of `--network` by what it was given, "default" included.
    const given = new Map<string, Partial<EndpointSettings>>();
    for (const [key, ep] of Object.entries(endpoints ?? {})) given.set(key === "default" || key === hostConfig.NetworkMode ? primary.Name : this.store.get(key).Name, ep);
    const names = new Set([primary.Name, ...given.keys()]);
    const networks: Record<string, EndpointSettings> = {};
    for (const name of names) {
      const n = this.store.get(name);
      if (n.Driver !== "bridge" && names.size > 1) throw new NetworkInvalidError(`container cannot be connected to ${n.Name} and to other networks at once`);
      const wanted = given.get(name) ?? {};
      if (wanted.Aliases?.length && this.store.isPredefined(n)) throw new NetworkInvalidError("network-scoped alias is supported only for containers in user defined networks");
      networks[n.Name] = emptyEndpoint(n, wanted);
    }
    hostConfig.NetworkMode = primary.Name;
    const ports: Record<string, PortBinding[] | null> = {};
    for (const p of publishedPorts(hostConfig, exposed)) ports[p.key] = null;
    return { Bridge: "", SandboxID: "", SandboxKey: "", Ports: ports, EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, MacAddress: "", Networks: networks };
  }

  /**
   * Addresses and host ports for a starting container, and how the guest
   * wires it. Host ports are bound first, so a taken one fails the start
   * before anything runs; `release` undoes all of it.
   */
  async prepare(c: NetworkedContainer, open: PortOpener): Promise<GuestNetwork> {
    const settings = c.NetworkSettings;
    const interfaces: GuestInterface[] = [];
    let host = false;
    try {
      for (const [name, ep] of Object.entries(settings.Networks)) {
        const n = this.store.list().find((x) => x.Id === ep.NetworkID) ?? this.store.get(name);
        if (n.Driver === "host") host = true;
        if (n.Driver !== "bridge") continue;
        const lease = this.store.lease(n.Id, c.Id, ep.IPAMConfig?.IPv4Address || undefined);
        Object.assign(ep, { NetworkID: n.Id, EndpointID: lease.endpointId, Gateway: lease.gateway, IPAddress: lease.ip, IPPrefixLen: lease.prefixLen, MacAddress: lease.mac });
        if (!this.store.isPredefined(n)) ep.Aliases = [...new Set([...(ep.Aliases ?? []), c.Id.slice(0, 12)])];
        interfaces.push(guestInterface(lease));
      }
      const first = Object.values(settings.Networks).find((e) => e.IPAddress);
      const bridge = settings.Networks.bridge;
      Object.assign(settings, {
        SandboxID: c.Id,
        SandboxKey: `/var/lib/hangar/containers/${c.Id}/netns`,
        EndpointID: bridge?.EndpointID ?? "",
        Gateway: bridge?.Gateway ?? "",
        IPAddress: bridge?.IPAddress ?? "",
        IPPrefixLen: bridge?.IPPrefixLen ?? 0,
        MacAddress: bridge?.MacAddress ?? "",
      });
      await this.publish(c, first?.IPAddress, open);
    } catch (err) {
      await this.release(c);
      throw err;
    }
    return { mode: host ? "host" : "bridge", interfaces, hosts: this.hostsOf(c), hostname: c.Config.Hostname ?? c.Id.slice(0, 12), resolvConf: resolvConf(c.HostConfig) };
  }

  /**
   * `docker network connect`: the endpoint is recorded; a running container
   * also gets its address now, and the interface to plug in is returned.
   */
  connect(c: NetworkedContainer, n: NetworkRecord, given: Partial<EndpointSettings>): GuestInterface | undefined {
    const networks = c.NetworkSettings.Networks;
    if (networks[n.Name]) throw new NetworkConflictError(`endpoint with name ${c.Name.slice(1)} already exists in network ${n.Name}`);
    if (n.Driver !== "bridge") throw new NetworkInvalidError(`container cannot be connected to the ${n.Name} network alongside others`);
    const current = Object.keys(networks).map((name) => this.store.list().find((x) => x.Name === name));
    if (current.some((x) => x && x.Driver !== "bridge"))
      throw new NetworkConflictError(`container ${c.Name.slice(1)} is on the ${current.find((x) => x && x.Driver !== "bridge")!.Name} network, which cannot be combined with others`);
    if (given.Aliases?.length && this.store.isPredefined(n)) throw new NetworkInvalidError("network-scoped alias is supported only for containers in user defined networks");
    const ep = emptyEndpoint(n, given);
    if (!c.State.Running) {
      networks[n.Name] = ep;
      return undefined;
    }
    const lease = this.store.lease(n.Id, c.Id, ep.IPAMConfig?.IPv4Address || undefined);
    Object.assign(ep, { EndpointID: lease.endpointId, Gateway: lease.gateway, IPAddress: lease.ip, IPPrefixLen: lease.prefixLen, MacAddress: lease.mac });
    if (!this.store.isPredefined(n)) ep.Aliases = [...new Set([...(ep.Aliases ?? []), c.Id.slice(0, 12)])];
    networks[n.Name] = ep;
    return guestInterface(lease);
  }

  /** `docker network disconnect`: the endpoint goes; returns the address a running container must drop. */
  disconnect(c: NetworkedContainer, n: NetworkRecord): string | undefined {
    const ep = c.NetworkSettings.Networks[n.Name];
    if (!ep) throw new NetworkConflictError(`container ${c.Id} is not connected to network ${n.Name}`);
    if (c.State.Running && n.Driver !== "bridge") throw new NetworkInvalidError(`container cannot be disconnected from the ${n.Name} network while it runs`);
    delete c.NetworkSettings.Networks[n.Name];
    this.store.release(c.Id, n.Id);
    if (n.Name === "bridge") Object.assign(c.NetworkSettings, { EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, MacAddress: "" });
    return c.State.Running && ep.IPAddress ? ep.IPAddress : undefined;
  }

  /** A stopped container's addresses and host ports go back; its settings keep the networks, not the addresses. */
  async release(c: NetworkedContainer): Promise<void> {
    this.store.release(c.Id);
    await this.relays.get(c.Id)?.close();
    this.relays.delete(c.Id);
    for (const ep of Object.values(c.NetworkSettings.Networks)) Object.assign(ep, { EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, MacAddress: "" });
    Object.assign(c.NetworkSettings, { SandboxID: "", SandboxKey: "", EndpointID: "", Gateway: "", IPAddress: "", IPPrefixLen: 0, MacAddress: "" });
    for (const key of Object.keys(c.NetworkSettings.Ports)) c.NetworkSettings.Ports[key] = null;
  }

  /** /etc/hosts of every running container that shares a user-defined network with `changed` (it came or went). */
  peersOf(changed: NetworkedContainer): Array<{ id: string; hosts: string }> {
    const nets = new Set(Object.values(changed.NetworkSettings.Networks).map((e) => e.NetworkID));
    return this.running()
      .filter((r) => r.Id !== changed.Id && Object.values(r.NetworkSettings.Networks).some((e) => nets.has(e.NetworkID)))
      .map((r) => ({ id: r.Id, hosts: this.hostsOf(r) }));
  }

  /** The container's /etc/hosts: itself, its links, and its user-defined networks' running peers. */
  hostsOf(c: NetworkedContainer): string {
    const own = Object.values(c.NetworkSettings.Networks)
      .map((e) => e.IPAddress)
      .filter(Boolean);
    const hostname = c.Config.Hostname ?? c.Id.slice(0, 12);
    const names = [c.Config.Domainname ? `${hostname}.${c.Config.Domainname}` : "", hostname].filter(Boolean);
    const peers: Array<{ ip: string; names: string[] }> = [];
    const running = this.running().filter((r) => r.Id !== c.Id);
    // --link target:alias (the default bridge's only way to find a container by name).
    for (const link of c.HostConfig.Links ?? []) {
      const [target, alias] = parseLink(link);
      const r = running.find((x) => x.Name === `/${target}` || x.Id.startsWith(target));
      const ip = r && Object.values(r.NetworkSettings.Networks).find((e) => e.IPAddress && Object.values(c.NetworkSettings.Networks).some((mine) => mine.NetworkID === e.NetworkID))?.IPAddress;
      if (r && ip) peers.push({ ip, names: [alias, r.Id.slice(0, 12), r.Name.slice(1)] });
    }
    for (const [, ep] of Object.entries(c.NetworkSettings.Networks)) {
      const n = this.store.list().find((x) => x.Id === ep.NetworkID);
      if (!n || this.store.isPredefined(n)) continue;
      for (const r of running) {
        const theirs = Object.values(r.NetworkSettings.Networks).find((e) => e.NetworkID === n.Id && e.IPAddress);
        if (theirs) peers.push({ ip: theirs.IPAddress, names: [r.Name.slice(1), ...(theirs.Aliases ?? [])] });
      }
    }
    for (const extra of c.HostConfig.ExtraHosts ?? []) {
      const at = extra.indexOf(":");
      // Docker's special address "host-gateway" is the host as containers reach it: here the engine machine's NAT gateway.
      const ip = extra.slice(at + 1);
      if (at > 0) peers.push({ ip: ip === "host-gateway" ? HOST_GATEWAY_IP : ip, names: [extra.slice(0, at)] });
    }
    return hostsFile({ ips: own, names }, peers);
  }

  private async publish(c: NetworkedContainer, ip: string | undefined, open: PortOpener): Promise<void> {
    const wanted = publishedPorts(c.HostConfig, c.Config.ExposedPorts);
    if (!wanted.length) return;
    if (!ip) throw new NetworkInvalidError(`Container ${c.Name.slice(1)} publishes ports but has no network address to relay them to (--network ${c.HostConfig.NetworkMode}).`);
    let relays: PortRelays;
    try {
      relays = await PortRelays.bind(wanted.map((p) => ({ id: p.key, guest: p.port, host: p.hostPort, hostIp: p.hostIp, autoCorrect: false })));
    } catch (err) {
      throw err instanceof PortInUseError ? new HangarError(`Bind for ${err.hostIp}:${err.host} failed: port is already allocated`) : err;
    }
    relays.attach((port) => open(ip, port));
    this.relays.set(c.Id, relays);
    for (const b of relays.ports) (c.NetworkSettings.Ports[b.id] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.host) });
  }
}

/** HostConfig.PortBindings (-p) plus, with -P, every exposed port on a free host port. */
function publishedPorts(hc: NetworkedContainer["HostConfig"], exposed: Record<string, unknown> | null | undefined): Array<{ key: string; port: number; hostIp: string; hostPort: number }> {
  const out: Array<{ key: string; port: number; hostIp: string; hostPort: number }> = [];
  const bindings: Record<string, PortBinding[] | null> = { ...(hc.PortBindings ?? {}) };
  if (hc.PublishAllPorts) for (const key of Object.keys(exposed ?? {})) bindings[key] ??= [{ HostIp: "", HostPort: "" }];
  for (const [key, list] of Object.entries(bindings)) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m) throw new NetworkInvalidError(`invalid port specification: "${key}"`);
    if (m[2] && m[2] !== "tcp") throw new NetworkUnsupportedError(`Hangar's engine publishes TCP ports only, not ${key}.`);
    for (const b of list ?? [{ HostIp: "", HostPort: "" }]) {
      const hostPort = b.HostPort ? Number(b.HostPort) : 0;
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw new NetworkInvalidError(`invalid host port: "${b.HostPort}"`);
      // Published on the loopback address unless one is given: the engine's ports are this user's, as the API socket is.
      out.push({ key: `${m[1]}/tcp`, port: Number(m[1]), hostIp: b.HostIp || "127.0.0.1", hostPort });
    }
  }
  return out;
}

function emptyEndpoint(n: NetworkRecord, given: Partial<EndpointSettings>): EndpointSettings {
  return {
    IPAMConfig: given.IPAMConfig?.IPv4Address ? { IPv4Address: given.IPAMConfig.IPv4Address } : null,
    Links: given.Links ?? null,
    Aliases: given.Aliases?.length ? [...given.Aliases] : null,
    NetworkID: n.Id,
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    MacAddress: "",
    DriverOpts: null,
  };
}

/** Docker stores links as "/target:/source/alias"; the CLI sends "target:alias". */
function parseLink(link: string): [string, string] {
  const [target, alias] = link.split(":");
  const name = target.replace(/^\//, "");
  return [name, (alias ?? name).split("/").pop() || name];
}

/** --dns / --dns-search / --dns-option; without them the engine machine's resolver configuration. */
function resolvConf(hc: NetworkedContainer["HostConfig"]): string {
  if (!hc.Dns?.length && !hc.DnsSearch?.length && !hc.DnsOptions?.length) return "";
  return (
    [
      ...(hc.DnsSearch?.length ? [`search ${hc.DnsSearch.join(" ")}`] : []),
      ...(hc.Dns ?? []).map((d) => `nameserver ${d}`),
      ...(hc.DnsOptions?.length ? [`options ${hc.DnsOptions.join(" ")}`] : []),
    ].join("\n") + "\n"
  );
}
