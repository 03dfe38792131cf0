import * as path from "node:path";
import { ProjectMachines } from "../../core/machines/project-machines";
import { checkProvisionWith } from "../../core/machines/provision";
import { HangarError } from "../../core/util/errors";
import { DaemonEvaluator } from "../../core/daemon/daemon-evaluator";
import { findVagrantfile } from "../../core/vagrantfile/vagrantfile-locator";
import type { CliCommand, CliIo } from "../cli-command";
import { UsageError, hangarHome } from "../cli-command";

/** Runs `fn` with the project of the Vagrantfile found from the current folder. */
export async function withProject<T>(io: CliIo, fn: (project: ProjectMachines) => Promise<T>): Promise<T> {
  const file = await findVagrantfile(io.cwd, io.env);
  if (!file) throw new HangarError(`No Vagrantfile found in ${io.cwd} or its parent folders.`, "Run `hangar init` to create one.");
  const base = io.env.HANGAR_SSH_PORT_BASE;
  if (base !== undefined && !/^\d+$/.test(base)) throw new HangarError(`HANGAR_SSH_PORT_BASE is '${base}', not a port number.`, "Set it to a port such as 2222, or unset it.");
  const home = hangarHome(io);
  const ruby = new DaemonEvaluator(home);
  try {
    return await fn(new ProjectMachines(file, home, ruby, io.env, base ? { sshPortBase: Number(base) } : {}));
  } finally {
    ruby.dispose();
  }
}

/**
 * Vagrant's start options (up, reload, resume): --provision, --no-provision
 * and --provision-with x,y,z (or =x,y,z; names or types, which imply
 * --provision). `rest` is what remains: names and other options.
 */
export function provisionFlags(args: string[]): { rest: string[]; provision?: boolean; provisionWith?: string[] } {
  const rest: string[] = [];
  let provision: boolean | undefined;
  let provisionWith: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--provision") provision = true;
    else if (a === "--no-provision") provision = false;
    else if (a === "--provision-with" || a.startsWith("--provision-with=")) {
      const list = a === "--provision-with" ? args[++i] : a.slice("--provision-with=".length);
      provisionWith = (list ?? "").split(",").filter(Boolean);
      if (!provisionWith.length) throw new UsageError("--provision-with needs provisioner names or types (x,y,z).");
    } else rest.push(a);
  }
  return { rest, ...(provision !== undefined ? { provision } : {}), ...(provisionWith ? { provisionWith } : {}) };
}

/** Vagrant's --provider NAME (or =NAME): what runs new machines. */
export function providerFlag(args: string[]): { rest: string[]; provider?: string } {
  const rest: string[] = [];
  let provider: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--provider" || a.startsWith("--provider=")) {
      provider = a === "--provider" ? args[++i] : a.slice("--provider=".length);
      if (!provider) throw new UsageError("--provider needs a provider's name (embedded or qemu).");
    } else rest.push(a);
  }
  return { rest, ...(provider ? { provider } : {}) };
}

/**
 * Ctrl-C as Vagrant takes it: the first interrupt cancels the operation at
 * its next safe point (the error then says what state it left), a second
 * one exits at once. Handlers go when `run` ends.
 */
async function interruptible<T>(io: CliIo, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onInterrupt = (): void => {
    if (abort.signal.aborted) process.exit(130);
    io.err("==> Waiting for the operation to stop at a safe point (Ctrl-C again to exit now)...");
    abort.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    return await run(abort.signal);
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

function names(args: string[], allowed: string[] = []): string[] {
  const bad = args.find((a) => a.startsWith("-") && !allowed.includes(a));
  if (bad) throw new UsageError(`Unknown option: ${bad}`);
  return args.filter((a) => !a.startsWith("-"));
}

/** A progress line per step; on a terminal the line is rewritten in place. */
function progressPrinter(io: CliIo): (fraction: number, message: string) => void {
  const tty = process.stderr.isTTY;
  return (fraction, message) => {
    const line = `==> ${message} (${Math.round(fraction * 100)}%)`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else io.err(line);
  };
}

export const up: CliCommand = {
  words: ["up"],
  usage: "hangar up [NAME...] [--provision|--no-provision] [--provision-with x,y,z] [--provider embedded|qemu]",
  summary: "Create and start machines (restores the box's booted state; resumes suspended machines).",
  run: (args, io) =>
    withProject(io, async (p) => {
      const { rest: afterProvider, provider } = providerFlag(args);
      const { rest, ...flags } = provisionFlags(afterProvider);
      const list = names(rest);
      if (flags.provisionWith) checkProvisionWith(await p.select(list), flags.provisionWith);
      const started = await interruptible(io, (signal) =>
        p.up(list, {
          progress: progressPrinter(io),
          onOutput: (line, stream) => (stream === "stdout" ? io.out(line) : io.err(line)),
          ...flags,
          ...(provider ? { provider } : {}),
          signal,
        }),
      );
      if (process.stderr.isTTY) process.stderr.write("\n");
      for (const s of started) {
        const forwarded = (s.ports ?? []).filter((x) => x.id !== "ssh").map((x) => `${x.guest} => ${x.hostIp}:${x.host}`);
        const addresses = s.addresses?.length ? `; private network ${s.addresses.join(", ")}` : "";
        io.out(`${s.name}: running (ssh on 127.0.0.1:${s.sshPort}${forwarded.length ? `; ports ${forwarded.join(", ")}` : ""}${addresses})`);
      }
      return 0;
    }),
};

export const status: CliCommand = {
  words: ["status"],
  usage: "hangar status [NAME...]",
  summary: "State of this project's machines (running, saved, poweroff, aborted, not created).",
  run: (args, io) =>
    withProject(io, async (p) => {
      const list = await p.status(names(args));
      io.out("Current machine states:\n");
      for (const s of list) io.out(`${s.name.padEnd(20)} ${s.state.replace("_", " ")} (${s.provider ?? "embedded"})${s.addresses?.length ? `  ${s.addresses.join(", ")}` : ""}`);
      return 0;
    }),
};

export const halt: CliCommand = {
  words: ["halt"],
  usage: "hangar halt [NAME...] [-f]",
  summary: "Stop machines; their files are kept for the next up (-f: power off now, keeping nothing).",
  run: (args, io) =>
    withProject(io, async (p) => {
      await interruptible(io, (signal) => p.halt(names(args, ["-f", "--force"]), args.includes("-f") || args.includes("--force"), signal));
      io.out("Halted.");
      return 0;
    }),
};

export const suspend: CliCommand = {
  words: ["suspend"],
  usage: "hangar suspend [NAME...]",
  summary: "Save running machines' whole state to disk and stop them; `up` or `resume` continues them.",
  run: (args, io) =>
    withProject(io, async (p) => {
      await interruptible(io, (signal) => p.suspend(names(args), signal));
      io.out("Suspended.");
      return 0;
    }),
};

export const resume: CliCommand = {
  words: ["resume"],
  usage: "hangar resume [NAME...]",
  summary: "Continue suspended machines.",
  run: (args, io) => up.run(args, io),
};

export const destroy: CliCommand = {
  words: ["destroy"],
  usage: "hangar destroy -f [NAME...]",
  summary: "Stop machines and delete everything Hangar keeps for them.",
  run: (args, io) =>
    withProject(io, async (p) => {
      if (!args.includes("-f") && !args.includes("--force")) throw new UsageError("destroy deletes the machines' state: confirm with -f.");
      const list = names(args, ["-f", "--force"]);
      await interruptible(io, (signal) => p.destroy(list, signal));
      io.out(`Destroyed${list.length ? ` ${list.join(", ")}` : ""} (${path.join(p.dir, ".hangar")}).`);
      return 0;
    }),
};

export const provision: CliCommand = {
  words: ["provision"],
  usage: "hangar provision [NAME...] [--provision-with x,y,z]",
  summary: "Run provisioners on running machines.",
  run: (args, io) =>
    withProject(io, async (p) => {
      const { rest, provision: flag, provisionWith } = provisionFlags(args);
      if (flag !== undefined) throw new UsageError(`Unknown option: ${flag ? "--provision" : "--no-provision"}`);
      await interruptible(io, (signal) => p.provision(names(rest), provisionWith ?? [], (line, stream) => (stream === "stdout" ? io.out(line) : io.err(line)), signal));
      return 0;
    }),
};

export const reload: CliCommand = {
  words: ["reload"],
  usage: "hangar reload [NAME...] [-f] [--provision|--no-provision] [--provision-with x,y,z]",
  summary: "Halt and start machines again (picks up Vagrantfile changes).",
  run: async (args, io) => {
    // As Vagrant, an unknown --provision-with is refused before anything halts.
    const { rest, provisionWith } = provisionFlags(args);
    if (provisionWith) await withProject(io, async (p) => checkProvisionWith(await p.select(names(rest, ["-f", "--force"])), provisionWith));
    // -f/--force is halt's (power off now, as Vagrant's reload -f); up gets the rest.
    const force = (a: string): boolean => a === "-f" || a === "--force";
    await halt.run(rest, io);
    return up.run(
      args.filter((a) => !force(a)),
      io,
    );
  },
};
