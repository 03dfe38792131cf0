// The engine process (dist/engine.js): Hangar's Docker Engine API server,
// started detached by `hangar engine start`, one per HANGAR_HOME. It serves
// until SIGTERM/SIGINT (`hangar engine stop`), then closes its socket.
// Usage: engine.js <HANGAR_HOME> [--memory MiB] [--idle-suspend MINUTES] [--mirror URL]
import { appendFileSync, mkdirSync } from "node:fs";
import { EngineAlreadyRunningError } from "./core/api/docker-api-server";
import { engineRoot } from "./core/api/engine-context";
import { dockerHost, engineLogFile } from "./core/api/engine-socket";
import { serveEngine } from "./core/api/engine-process";
import { errorMessage } from "./core/util/errors";
import { ensureHangarHome, resolveHangarHome } from "./core/util/hangar-home";

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const home = args[0] && !args[0].startsWith("--") ? args[0] : resolveHangarHome();
  try {
    ensureHangarHome(home);
  } catch (err) {
    // Its log lives in the home it refuses: say why on stderr (the starter's log file when detached).
    process.stderr.write(`hangar engine: ${errorMessage(err)}\n`);
    process.exitCode = 1;
    return;
  }
  mkdirSync(engineRoot(home), { recursive: true });
  const log = (line: string): void => appendFileSync(engineLogFile(home), `${new Date().toISOString()} [${process.pid}] ${line}\n`);
  const memory = option(args, "--memory");
  const idle = option(args, "--idle-suspend");
  let running;
  try {
    running = await serveEngine(home, {
      memoryMiB: memory && /^\d+$/.test(memory) ? Number(memory) : undefined,
      mirror: option(args, "--mirror"),
      env: process.env,
      log,
      ...(idle && /^\d+(\.\d+)?$/.test(idle) ? { idleSuspendMs: Number(idle) * 60_000 } : {}),
    });
  } catch (err) {
    // Two starts raced and the other won: that engine serves, this one has nothing to do.
    if (err instanceof EngineAlreadyRunningError) log(`not starting: ${err.message}`);
    else {
      log(`failed to start: ${err instanceof Error ? (err.stack ?? errorMessage(err)) : errorMessage(err)}`);
      process.exitCode = 1;
    }
    return;
  }
  log(`listening on ${dockerHost(running.server.socket)}`);
  let stopping = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping`);
      void running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log(`stopping failed: ${errorMessage(err)}`);
          process.exit(1);
        },
      );
    });
  }
}

void main();
