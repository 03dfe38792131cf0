import * as path from "node:path";
import { engineRoot } from "./engine-context";

/**
 * Where the engine listens and what DOCKER_HOST points clients there: a
 * unix socket in HANGAR_HOME (mode 0600: the API gives whoever reaches it
 * the engine's powers), or on Windows a named pipe, the way Docker Desktop
 * serves `npipe:////./pipe/docker_engine`.
 */
export const WINDOWS_PIPE = "\\\\.\\pipe\\hangar-docker-engine";

export function engineSocket(hangarHome: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? WINDOWS_PIPE : path.join(hangarHome, "docker.sock");
}

/** The DOCKER_HOST value for a socket: unix:///…/docker.sock or npipe:////./pipe/…. */
export function dockerHost(socket: string): string {
  return socket.startsWith("\\\\.\\pipe\\") ? `npipe://${socket.replace(/\\/g, "/")}` : `unix://${socket}`;
}

export function isNamedPipe(socket: string): boolean {
  return socket.startsWith("\\\\.\\pipe\\");
}

/** The running engine's process ID, one decimal line (written once it listens, removed when it stops). */
export function enginePidFile(hangarHome: string): string {
  return path.join(engineRoot(hangarHome), "engine.pid");
}

/** What the engine process logs (and its stdout/stderr when started detached). */
export function engineLogFile(hangarHome: string): string {
  return path.join(engineRoot(hangarHome), "engine.log");
}
