import type { MachineConfig } from "../../../../src/core/vagrantfile/machine-config";
import type { ValidationReport } from "../../../../src/core/vagrantfile/validation-report";

/** The environment golden cases evaluate with: fixed, never the caller's. */
export const GOLDEN_ENV: Record<string, string> = { HOME: "/nonexistent-home", HANGAR_TEST_MEMORY: "768" };
/** The host Vagrant::Util::Platform answers for, whatever host runs the test. */
export const HOST_PLATFORM: NodeJS.Platform = "linux";

/**
 * The documented contract of `hangar validate --json`, and nothing more: the
 * fields each golden expected.json pins down.
 */
export function project(report: ValidationReport): unknown {
  if ("error" in report) return { error: report.error, line: report.line };
  return {
    machines: report.machines.map((m) => ({
      name: m.name,
      primary: m.primary,
      autostart: m.autostart,
      box: m.box,
      boxVersion: m.boxVersion,
      boxUrls: m.boxUrls,
      bootTimeout: m.bootTimeout,
      postUpMessage: m.postUpMessage,
      usablePortRange: m.usablePortRange,
      hostname: m.hostname,
      memory: m.memory,
      cpus: m.cpus,
      ...(m.primaryDiskBytes !== null ? { primaryDiskBytes: m.primaryDiskBytes } : {}),
      forwardedPorts: m.forwardedPorts.map((p) => ({ guest: p.guest, host: p.host, hostIp: p.hostIp, protocol: p.protocol, id: p.id })),
      privateNetworks: m.privateNetworks.map((n) => ({ ip: n.ip, type: n.type, ...(n.netmask === null ? {} : { netmask: n.netmask }) })),
      syncedFolders: m.syncedFolders.map((f) => ({ hostPath: f.hostPath, guestPath: f.guestPath, disabled: f.disabled, type: f.type, exclude: f.exclude })),
      provisioners: m.provisioners.map((p) => ({ type: p.type, name: p.name, inline: p.inline, path: p.path, args: p.args, run: p.run, privileged: p.privileged, ...shellOptionsSet(p) })),
      providers: m.providers,
    })),
    output: report.output,
  };
}

/** The shell provisioner's other options, only where they differ from Vagrant's defaults (so cases that set none stay as they were). */
function shellOptionsSet(p: MachineConfig["provisioners"][number]): object {
  return {
    ...(p.uploadPath !== "/tmp/vagrant-shell" ? { uploadPath: p.uploadPath } : {}),
    ...(Object.keys(p.env).length ? { env: p.env } : {}),
    ...(p.binary ? { binary: true } : {}),
    ...(p.keepColor ? { keepColor: true } : {}),
    ...(p.sensitive ? { sensitive: true } : {}),
    ...(p.reset ? { reset: true } : {}),
    ...(p.reboot ? { reboot: true } : {}),
    ...(Object.keys(p.checksums).length ? { checksums: p.checksums } : {}),
  };
}
