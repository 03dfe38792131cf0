import { CancelledError, HangarError } from "../util/errors";
import type { MachineConfig, Provisioner } from "../vagrantfile/machine-config";
import { PROVISIONER_TYPES } from "../vagrantfile/provisioner-types";
import type { MachineSession } from "./machine-session";
import { runFile } from "./provision-file";
import { runShell } from "./provision-shell";

export class ProvisionError extends HangarError {}

/** How a command asked for provisioning: Vagrant's provision_enabled, provision_types and its sentinel file. */
export interface ProvisionFlags {
  /** The machine was provisioned before (Vagrant's sentinel, `.vagrant/machines/NAME/PROVIDER/action_provision`). */
  provisioned: boolean;
  /** `--provision` (true) or `--no-provision` (false); unset: the sentinel decides. */
  enabled?: boolean;
  /** `--provision-with`: provisioner names or types. */
  only?: string[];
  /** `provision` runs `once` provisioners whatever the sentinel says; `up`, `reload` and `resume` do not. */
  command: "up" | "provision";
}

export interface ProvisionPlan {
  /** The provisioners to run, in order. */
  run: Provisioner[];
  /** Vagrant's notes on why provisioners do not run (already prefixed by nothing; the caller adds the machine's name). */
  notes: string[];
  /** Record the machine as provisioned now, before its provisioners run (Vagrant writes its sentinel then; not with --no-provision). */
  markProvisioned: boolean;
}

/**
 * Which provisioners a command runs, by Vagrant 2.3's rules
 * (lib/vagrant/action/builtin/provision.rb and the up/reload/provision
 * commands): `once` ones on a machine's first up, with --provision and with
 * `provision`; `always` ones every time; `never` ones only when
 * --provision-with names them. --provision-with (names or types) narrows
 * every run; --no-provision runs nothing and leaves the machine unprovisioned.
 */
export function provisionPlan(provisioners: Provisioner[], f: ProvisionFlags): ProvisionPlan {
  const only = f.only?.length ? f.only : undefined;
  if (!only && f.enabled === false) return { run: [], notes: provisioners.length ? ["Machine not provisioned because `--no-provision` is specified."] : [], markProvisioned: false };
  // The sentinel holds `once` provisioners back unless the command or a flag says otherwise (provision_ignore_sentinel).
  const ignoreSentinel = f.command === "provision" || f.enabled !== undefined || only !== undefined;
  const enabled = ignoreSentinel || !f.provisioned;
  const run = provisioners.filter((p) => {
    const named = p.name !== null && (only?.includes(p.name) ?? false);
    if (p.run === "never") return named;
    if (only && !named && !only.includes(p.type)) return false;
    return enabled || p.run === "always";
  });
  const notes =
    !enabled && provisioners.length
      ? ["Machine already provisioned. Run `hangar provision` or use the `--provision` flag to force provisioning. Provisioners marked to run always will still run."]
      : [];
  return { run, notes, markProvisioned: true };
}

/**
 * Refuses a --provision-with list as Vagrant's up and reload do
 * (start_mixins.rb): fine when it names a provisioner of the machines;
 * otherwise each entry must be a provisioner type. Vagrant compares only
 * `provision "NAME", type: …` names here; a shell's `name:` counts too, as it
 * does when provisioners are picked.
 */
export function checkProvisionWith(machines: MachineConfig[], only: string[] | undefined): void {
  if (!only?.length) return;
  const names = new Set(machines.flatMap((m) => m.provisioners.map((p) => p.name).filter((n): n is string => n !== null)));
  if (only.some((x) => names.has(x))) return;
  const unknown = only.find((t) => !PROVISIONER_TYPES.has(t));
  if (unknown === undefined) return;
  throw new ProvisionError(
    `'${unknown}' is not a known provisioner. Please specify a valid provisioner.`,
    names.size
      ? `The Vagrantfile's provisioners are named ${[...names].map((n) => `'${n}'`).join(", ")}; --provision-with also takes types (shell, file, …).`
      : 'No provisioner has a name (config.vm.provision "NAME", type: "shell", …); --provision-with also takes types (shell, file, …).',
  );
}

export interface ProvisionContext {
  machine: MachineConfig;
  /** The Vagrantfile's folder: script `path`s and file `source`s are relative to it. */
  projectDir: string;
  /** Named in errors about the files it refers to. */
  vagrantfile: string;
  /** The machine's SSH user: uploads and `privileged: false` scripts run as it, privileged ones through its sudo (Vagrant's communicator). */
  sshUser: string;
  /** An SSH session as sshUser, opened when first needed and again after a provisioner with `reset: true`. */
  connect(): Promise<MachineSession>;
  /** Each output line, already prefixed with the machine's name. */
  onLine(line: string, stream: "stdout" | "stderr"): void;
  /**
   * Cancels: no further provisioner starts, and the one running is
   * interrupted (its SSH session closes, as Ctrl-C ends Vagrant's). The
   * machine keeps running; the CancelledError says how far provisioning got.
   */
  signal?: AbortSignal;
}

/** Prints a provisioner's lines as `NAME: line`, with `sensitive` env values hidden as Vagrant's CredentialScrubber does. */
export type Say = (line: string, stream?: "stdout" | "stderr") => void;

/**
 * Runs provisioners (a ProvisionPlan's `run`) in order, shell and file ones
 * as Vagrant does; other types are skipped with a note (validation already
 * warned). A failing one stops the rest. Returns how many ran.
 */
export async function runProvisioners(list: Provisioner[], ctx: ProvisionContext): Promise<number> {
  const scrub = scrubber(ctx.machine.provisioners);
  const say: Say = (line, stream = "stdout") => ctx.onLine(scrub(`${ctx.machine.name}: ${line}`), stream);
  let session: MachineSession | undefined;
  let ran = 0;
  const interrupt = (): void => session?.close();
  ctx.signal?.addEventListener("abort", interrupt, { once: true });
  const cancelled = (during?: Provisioner): CancelledError =>
    new CancelledError(
      `Provisioning '${ctx.machine.name}' was cancelled${during ? ` during the ${during.name ?? during.type} provisioner (interrupted)` : ""} after ${ran} of ${list.length} provisioner${list.length === 1 ? "" : "s"}; the machine is running.`,
      "Provision again to run them all.",
    );
  try {
    for (const p of list) {
      if (ctx.signal?.aborted) throw cancelled();
      if (p.type !== "shell" && p.type !== "file") {
        say(`skipping the ${p.type} provisioner (Hangar runs shell and file provisioners)`, "stderr");
        continue;
      }
      say(`Running provisioner: ${p.name ? `${p.name} (${p.type})` : p.type}...`);
      session ??= await ctx.connect();
      try {
        if (p.type === "shell") await runShell(p, ctx, session, say);
        else await runFile(p, ctx, session, say);
      } catch (err) {
        if (ctx.signal?.aborted) throw cancelled(p);
        // An error quoting the script's output hides the same values its lines did.
        if (err instanceof HangarError) {
          const message = err.hint && err.message.endsWith(` ${err.hint}`) ? err.message.slice(0, -err.hint.length - 1) : err.message;
          if (scrub(message) !== message) throw new ProvisionError(scrub(message), err.hint);
        }
        throw err;
      }
      ran++;
      if (p.type === "shell" && p.reboot) say("reboot: true is not supported by Hangar; the machine was not rebooted.", "stderr");
      if (p.type === "shell" && (p.reset || p.reboot)) {
        // Later provisioners log in again, as after Vagrant's communicator reset (new group memberships apply).
        session.close();
        session = undefined;
      }
    }
  } finally {
    ctx.signal?.removeEventListener("abort", interrupt);
    session?.close();
  }
  return ran;
}

/** Vagrant registers `sensitive` provisioners' env values when the Vagrantfile loads, so every later line hides them. */
function scrubber(provisioners: Provisioner[]): (text: string) => string {
  const secrets = provisioners.filter((p) => p.sensitive).flatMap((p) => Object.values(p.env).filter(Boolean));
  if (!secrets.length) return (text) => text;
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return (text) => secrets.reduce((t, s) => t.replace(new RegExp(`(\\W|^)${escape(s)}(?=\\W|$)`, "g"), "$1*****"), text);
}
