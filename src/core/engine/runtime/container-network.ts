import { randomBytes } from "node:crypto";
import { shellQuote } from "../../util/shell-quote";

/** One network interface of a container: a veth pair, one end on the network's bridge, the other its ethN. */
export interface GuestInterface {
  bridge: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
}

/** A network address lease's interface for the runtime. */
export function guestInterface(lease: GuestInterface): GuestInterface {
  return { bridge: lease.bridge, ip: lease.ip, prefixLen: lease.prefixLen, gateway: lease.gateway, mac: lease.mac };
}

/** How a container is networked, and the files Docker bind-mounts over its /etc. */
export interface GuestNetwork {
  /** "bridge": its own network namespace with `interfaces` (none: loopback only); "host": the engine machine's. */
  mode: "bridge" | "host";
  interfaces: GuestInterface[];
  /** /etc/hosts, /etc/hostname and /etc/resolv.conf as the container sees them (resolv.conf: the engine machine's when empty). */
  hosts: string;
  hostname: string;
  resolvConf: string;
}

/** Files the engine keeps per container and bind-mounts over the image's (they are not part of its layer, so not of `docker diff`). */
export const ETC_FILES = ["hosts", "hostname", "resolv.conf"] as const;

/** The /etc/hosts Docker writes: loopback names, the container's own address and name, then peers (links, or containers on the same user-defined networks). */
export function hostsFile(own: { ips: string[]; names: string[] }, peers: Array<{ ip: string; names: string[] }>): string {
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];
  for (const p of peers) lines.push(`${p.ip}\t${[...new Set(p.names)].join(" ")}`);
  for (const ip of own.ips) lines.push(`${ip}\t${[...new Set(own.names)].join(" ")}`);
  return lines.join("\n") + "\n";
}

/**
 * `docker network connect` on a running container: a new interface, the
 * first free ethN, plugged into its namespace (`pidFile` holds a process
 * in it) and addressed there; no default route (the first network keeps it).
 */
export function plugSteps(c: string, id: string, iface: GuestInterface): string[] {
  const cidr = `${iface.gateway}/${iface.prefixLen}`;
  return [
    "set -e",
    `u=$(cat ${c}/unshare.pid)`,
    // (as the runtime script makes a bridge: with the rule that keeps other networks' containers from routing into it)
    `[ -d /sys/class/net/${iface.bridge} ] || { ip link add name ${iface.bridge} type bridge 2>/dev/null; ip addr add ${cidr} dev ${iface.bridge} 2>/dev/null; n=$(ipcalc -n ${cidr}) && ip rule add pref 200 to \${n#NETWORK=}/${iface.prefixLen} type prohibit 2>/dev/null; ip link set ${iface.bridge} up; }`,
    "k=0; while nsenter -t $u -n ip link show eth$k >/dev/null 2>&1; do k=$((k+1)); done",
    ...vethSteps(guestName(id, "${k}"), iface, "$u"),
    `nsenter -t $u -n sh -c ${shellQuote(addressSteps(guestName(id, "${0}"), "eth${0}", iface).join(" && "))} $k`,
  ];
}

/** `docker network disconnect` on a running container: its interface with that address goes (and with it the veth pair). */
export function unplugSteps(c: string, ip: string): string[] {
  return [
    `u=$(cat ${c}/unshare.pid) && [ -n "$u" ] || exit 0`,
    `i=$(nsenter -t $u -n ip -o addr show | awk -v a=${ip}/ 'index($4, a) == 1 {print $2; exit}')`,
    `[ -z "$i" ] || nsenter -t $u -n ip link del "$i"`,
  ];
}

/** A veth pair: the container's end renamed to `guest` and moved into the namespace of `pid`, the other end on the bridge. */
function vethSteps(guest: string, iface: GuestInterface, pid: string): string[] {
  const host = `veth${randomBytes(4).toString("hex").slice(0, 7)}`;
  return [
    `ip link add name ${host} type veth`,
    // busybox's ip cannot name the peer: the kernel names it vethN; its index is the host end's iflink.
    // (the shell reads each ifindex itself: no process)
    `{ p=; read i < /sys/class/net/${host}/iflink; for x in /sys/class/net/*/ifindex; do { read n < $x; } 2>/dev/null || continue; [ "$n" != "$i" ] || p=\${x%/ifindex}; done; p=\${p##*/}; [ -n "$p" ]; }`,
    // One ip per end (each is a process, and processes are what a container's start costs in the emulated guest).
    `ip link set "$p" name ${guest} netns ${pid}`,
    `ip link set ${host} master ${iface.bridge} up`,
  ];
}

/** Inside the namespace: the moved end becomes `name`, with the endpoint's MAC and address. */
function addressSteps(guest: string, name: string, iface: GuestInterface): string[] {
  return [`ip link set ${guest} name ${name} address ${iface.mac} up`, `ip addr add ${iface.ip}/${iface.prefixLen} dev ${name}`];
}

/** The container end's name while it moves between namespaces (15 characters at most, unique per container). */
function guestName(id: string, k: string): string {
  return `c${k}${id.slice(0, 11)}`;
}
