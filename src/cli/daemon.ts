// The machine daemon process (dist/daemon.js): started on demand by
// DaemonClient, detached, one per HANGAR_HOME. It holds the running embedded
// machines and exits when it has had none for a while.
import { appendFileSync } from "node:fs";
import * as path from "node:path";
import { MachineDaemon } from "../core/daemon/machine-daemon";
import { errorMessage } from "../core/util/errors";
import { ensureHangarHome, resolveHangarHome } from "../core/util/hangar-home";

const IDLE_EXIT_MS = 5 * 60_000;

async function main(): Promise<void> {
  const home = process.argv[2] ?? resolveHangarHome();
  try {
    ensureHangarHome(home);
  } catch (err) {
    // Nowhere safe to log: the client sees the daemon not start, and its own check of the home says why.
    process.stderr.write(`hangard: ${errorMessage(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const logFile = path.join(home, "hangard.log");
  const log = (line: string): void => appendFileSync(logFile, `${new Date().toISOString()} [${process.pid}] ${line}\n`);
  let daemon: MachineDaemon;
  try {
    daemon = await MachineDaemon.listen(home);
  } catch (err) {
    // Another daemon won the race for the socket: nothing to do.
    log(`not starting: ${(err as Error).message}`);
    return;
  }
  log("listening");
  let idleSince = Date.now();
  setInterval(async () => {
    const running = daemon.machineCount();
    if (running > 0) idleSince = Date.now();
    else if (Date.now() - idleSince > IDLE_EXIT_MS) {
      log("idle, exiting");
      await daemon.close();
      process.exit(0);
    }
  }, 10_000);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping machines`);
      void daemon.close().then(() => process.exit(0));
    });
  }
}

void main();
