import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, promises as fs, readFileSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { HangarError } from "../util/errors";
import { ensureHangarHome } from "../util/hangar-home";
import { DEFAULT_ENGINE_MEMORY_MIB, engineRoot } from "./engine-context";
import { dockerHost, engineSocket, engineLogFile, enginePidFile, isNamedPipe } from "./engine-socket";
import { EMULATOR_PROCESS_FLAGS } from "../emulator/emulator-host";

/**
 * Starting, stopping and asking after the engine process from outside it
 * (the CLI, later the extension). The engine is found by its socket: it
 * runs when `/_ping` answers there. The pid file says which process to
 * signal; it is trusted only while the socket answers, so a stale file
 * never gets an unrelated process killed.
 */

export interface EngineStatus {
  running: boolean;
  socket: string;
  dockerHost: string;
  /** Present when running (and the pid file is readable). */
  pid?: number;
  /** The API version the engine reports in `/_ping`'s Api-Version header. */
  apiVersion?: string;
  logFile: string;
}

export interface StartEngineOptions {
  memoryMiB?: number;
  /** Minutes without work before the engine machine is suspended (0: never). */
  idleSuspendMinutes?: number;
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  /** The engine entry script; default dist/engine.js beside this bundle, or src/engine-main.ts when run from source. */
  script?: string;
  /** How long to wait for `/_ping` to answer. */
  timeoutMs?: number;
}

/** `/_ping` on the socket: the engine's API version when it answers, else undefined. */
export function pingEngine(socket: string, timeoutMs = 2000): Promise<{ apiVersion: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: "/_ping", timeout: timeoutMs, headers: { Host: "hangar" } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? { apiVersion: String(res.headers["api-version"] ?? "") } : undefined);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(undefined));
  });
}

export async function engineStatus(hangarHome: string): Promise<EngineStatus> {
  const socket = engineSocket(hangarHome);
  const base = { socket, dockerHost: dockerHost(socket), logFile: engineLogFile(hangarHome) };
  const ping = await pingEngine(socket);
  if (!ping) return { running: false, ...base };
  return { running: true, ...base, apiVersion: ping.apiVersion, pid: await readPid(hangarHome) };
}

/**
 * Starts the engine detached (it outlives the command) and waits until it
 * answers. Returns whether this call started it: when one already runs,
 * nothing happens. A socket left by a crashed engine does not stand in the
 * way (the engine removes a socket nothing answers on).
 */
export async function startEngine(hangarHome: string, options: StartEngineOptions = {}): Promise<{ started: boolean; status: EngineStatus }> {
  // Before pinging: in a home another user controls, "an engine already runs" could be theirs.
  ensureHangarHome(hangarHome);
  const before = await engineStatus(hangarHome);
  if (before.running) return { started: false, status: before };
  mkdirSync(engineRoot(hangarHome), { recursive: true });
  // A crashed engine's pid file would otherwise be read as the new engine's until it writes its own.
  await fs.rm(enginePidFile(hangarHome), { force: true });
  const bundled = path.join(__dirname, "engine.js");
  const entry = options.script ?? (existsSync(bundled) ? bundled : path.join(__dirname, "..", "..", "engine-main.ts"));
  const execArgv = [...EMULATOR_PROCESS_FLAGS, ...(entry.endsWith(".ts") ? ["--import", "tsx"] : [])];
  const args = [
    entry,
    hangarHome,
    "--memory",
    String(options.memoryMiB ?? DEFAULT_ENGINE_MEMORY_MIB),
    ...(options.mirror ? ["--mirror", options.mirror] : []),
    ...(options.idleSuspendMinutes !== undefined ? ["--idle-suspend", String(options.idleSuspendMinutes)] : []),
  ];
  const logFile = engineLogFile(hangarHome);
  const log = openSync(logFile, "a");
  let exit: { code: number | null } | undefined;
  try {
    const child = spawn(process.execPath, [...execArgv, ...args], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: "1" },
      windowsHide: true,
    });
    child.once("exit", (code) => (exit = { code }));
    child.once("error", () => (exit = { code: null }));
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const status = await engineStatus(hangarHome);
    // The pid file follows the socket by a moment.
    if (status.running && (status.pid !== undefined || Date.now() > deadline)) return { started: true, status };
    if (!status.running && (exit || Date.now() > deadline)) {
      const tail = (await fs.readFile(logFile, "utf8").catch(() => "")).trimEnd().split("\n").slice(-5).join("\n");
      throw new HangarError(
        exit
          ? `Hangar's engine exited (code ${exit.code}) before it answered on ${status.dockerHost}.`
          : `Hangar's engine did not answer on ${status.dockerHost} within ${Math.round((options.timeoutMs ?? 20_000) / 1000)} s.`,
        `See ${logFile}${tail ? `; it ends with:\n${tail}` : "."}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the engine: SIGTERM (it closes its socket and exits), SIGKILL if it does not go within 10 s. Returns the pid it stopped, or undefined when none ran. */
export async function stopEngine(hangarHome: string): Promise<number | undefined> {
  const status = await engineStatus(hangarHome);
  if (!status.running) {
    await fs.rm(enginePidFile(hangarHome), { force: true });
    return undefined;
  }
  const pid = status.pid;
  if (pid === undefined) {
    throw new HangarError(
      `Hangar's engine answers on ${status.dockerHost}, but its pid file ${enginePidFile(hangarHome)} is missing, so it cannot be told to stop.`,
      "Stop the process listening there (see `ss -xlp` or the engine log), then start the engine again.",
    );
  }
  signal(pid, "SIGTERM");
  if (!(await waitGone(hangarHome, pid, 60_000))) {
    signal(pid, "SIGKILL");
    if (!(await waitGone(hangarHome, pid, 3_000))) throw new HangarError(`Hangar's engine (pid ${pid}) did not stop.`, `See ${status.logFile}.`);
  }
  // A killed engine leaves its socket file and pid file behind.
  if (!isNamedPipe(status.socket) && !(await pingEngine(status.socket))) await fs.rm(status.socket, { force: true });
  await fs.rm(enginePidFile(hangarHome), { force: true });
  return pid;
}

async function readPid(hangarHome: string): Promise<number | undefined> {
  const text = (await fs.readFile(enginePidFile(hangarHome), "utf8").catch(() => "")).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // An exited process stays a zombie until its parent (init, for a detached engine) reaps it; some inits take seconds.
  if (process.platform === "linux") {
    const stat = readFileOrEmpty(`/proc/${pid}/stat`);
    if (/^\d+ \(.*\) Z/s.test(stat)) return false;
  }
  return true;
}

function readFileOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

async function waitGone(hangarHome: string, pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid) && !(await pingEngine(engineSocket(hangarHome), 500))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
