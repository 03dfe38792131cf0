import { API_VERSION, MIN_API_VERSION } from "../../core/api/api-version";
import { DEFAULT_ENGINE_MEMORY_MIB } from "../../core/api/engine-context";
import { dockerHost, engineSocket } from "../../core/api/engine-socket";
import { engineStatus, pingEngine, startEngine, stopEngine } from "../../core/api/engine-control";
import { CliCommand, UsageError, hangarHome } from "../cli-command";

/** Options of the form `--name VALUE`; anything else is a usage error. */
function options(args: string[], names: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!names.includes(a)) throw new UsageError(`Unknown argument: ${a}`);
    const value = args[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${a} needs a value.`);
    found.set(a, value);
  }
  return found;
}

export const engineStart: CliCommand = {
  words: ["engine", "start"],
  usage: "hangar engine start [--memory MiB] [--idle-suspend MINUTES] [--mirror URL]",
  summary: "Start Hangar's container engine: a Docker Engine API on HANGAR_HOME/docker.sock for the docker CLI (images now; containers later).",
  async run(args, io) {
    const o = options(args, ["--memory", "--mirror", "--idle-suspend"]);
    const memory = o.get("--memory");
    if (memory !== undefined && !/^\d+$/.test(memory)) throw new UsageError(`--memory takes MiB as a whole number, not "${memory}".`);
    const idle = o.get("--idle-suspend");
    if (idle !== undefined && !/^\d+(\.\d+)?$/.test(idle)) throw new UsageError(`--idle-suspend takes minutes (0: never), not "${idle}".`);
    const home = hangarHome(io);
    const { started, status } = await startEngine(home, {
      memoryMiB: memory ? Number(memory) : DEFAULT_ENGINE_MEMORY_MIB,
      mirror: o.get("--mirror"),
      env: io.env,
      ...(idle !== undefined ? { idleSuspendMinutes: Number(idle) } : {}),
    });
    const pid = status.pid !== undefined ? ` (pid ${status.pid})` : "";
    if (!started) io.out(`Hangar's engine is already running${pid}, listening on ${status.dockerHost}; nothing to do.`);
    else io.out(`Hangar's engine is running${pid}, listening on ${status.dockerHost} (Docker API ${status.apiVersion ?? API_VERSION}).`);
    io.out(`Point docker at it: export DOCKER_HOST=${status.dockerHost}   (or: eval "$(hangar engine env)")`);
    return 0;
  },
};

export const engineStop: CliCommand = {
  words: ["engine", "stop"],
  usage: "hangar engine stop",
  summary: "Stop Hangar's container engine.",
  async run(args, io) {
    options(args, []);
    const pid = await stopEngine(hangarHome(io));
    io.out(pid === undefined ? "Hangar's engine is not running; nothing to stop." : `Stopped Hangar's engine (pid ${pid}).`);
    return 0;
  },
};

export const engineStatusCommand: CliCommand = {
  words: ["engine", "status"],
  usage: "hangar engine status [--json]",
  summary: "Whether Hangar's container engine runs, where it listens, its pid and API version.",
  async run(args, io) {
    const json = args.includes("--json");
    options(
      args.filter((a) => a !== "--json"),
      [],
    );
    const s = await engineStatus(hangarHome(io));
    if (json) {
      io.out(JSON.stringify(s, null, 2));
      return 0;
    }
    io.out(`Hangar's engine: ${s.running ? "running" : "stopped"}`);
    io.out(`  socket:      ${s.socket}${s.running ? "" : " (nothing listening)"}`);
    io.out(`  DOCKER_HOST: ${s.dockerHost}`);
    if (s.running) {
      io.out(`  pid:         ${s.pid ?? "unknown (no pid file)"}`);
      io.out(`  API version: ${s.apiVersion || API_VERSION} (minimum ${MIN_API_VERSION})`);
    }
    io.out(`  log:         ${s.logFile}`);
    return 0;
  },
};

const SHELLS = ["sh", "bash", "zsh", "fish", "powershell", "pwsh"] as const;
const SHOWN_SHELLS = "sh|fish|powershell";

export const engineEnv: CliCommand = {
  words: ["engine", "env"],
  usage: `hangar engine env [--shell ${SHOWN_SHELLS}]`,
  summary: 'Print the DOCKER_HOST setting for Hangar\'s engine, for eval "$(hangar engine env)".',
  async run(args, io) {
    const o = options(args, ["--shell"]);
    const shell = o.get("--shell") ?? (process.platform === "win32" ? "powershell" : "sh");
    if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`--shell is one of ${SHELLS.join(", ")}, not "${shell}".`);
    const socket = engineSocket(hangarHome(io));
    const host = dockerHost(socket);
    if (shell === "fish") {
      io.out(`set -gx DOCKER_HOST ${quoteSh(host)};`);
      io.out("# Run this command to configure your shell: hangar engine env --shell fish | source");
    } else if (shell === "powershell" || shell === "pwsh") {
      io.out(`$Env:DOCKER_HOST = "${host.replace(/[`"$]/g, "`$&")}"`);
      io.out("# Run this command to configure your shell: & hangar engine env --shell powershell | Invoke-Expression");
    } else {
      io.out(`export DOCKER_HOST=${quoteSh(host)}`);
      io.out('# Run this command to configure your shell: eval "$(hangar engine env)"');
    }
    // On stderr, so eval is not affected.
    if (!(await pingEngine(socket, 1000))) io.err("# Hangar's engine is not running: start it with `hangar engine start`.");
    return 0;
  },
};

/** Single-quotes for sh/fish when the value needs it. */
function quoteSh(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
