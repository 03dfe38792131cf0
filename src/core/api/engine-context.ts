import * as path from "node:path";
import type { ContainerEngine } from "../engine/containers/container-engine";
import type { ImageStore } from "../engine/images/image-store";
import type { EngineMachine } from "../engine/machine/engine-machine";
import type { NetworkStore } from "../engine/networks/network-store";
import type { EngineShares } from "../engine/volumes/engine-shares";
import type { VolumeStore } from "../engine/volumes/volume-store";
import type { DefaultRegistry } from "./default-registry";
import type { EngineEvents } from "./engine-events";

/** What the route families share: the engine's stores, its machine and its event log. */
export interface EngineContext {
  hangarHome: string;
  images: ImageStore;
  containers: ContainerEngine;
  networks: NetworkStore;
  volumes: VolumeStore;
  /** The host folders the engine machine sees, where bind mount sources may come from. */
  shares: EngineShares;
  /** The hidden machine containers run in, started on first need. */
  machine: EngineMachine;
  events: EngineEvents;
  /** Turns names as Docker clients qualify them into names as the store keeps them. */
  registry: DefaultRegistry;
  /** Docker's engine ID (a UUID kept in `engine/engine-id`). */
  engineId: string;
  /** Memory (MiB) the engine machine is configured with: what /info reports as the engine's total. */
  memoryMiB: number;
  /** The Debian mirror built-in images come from (hangar.debianMirror); else HANGAR_DEBIAN_MIRROR or apt's configuration. */
  mirror?: string;
  env: NodeJS.ProcessEnv;
}

/** Memory of the engine machine when none is configured. */
export const DEFAULT_ENGINE_MEMORY_MIB = 512;

/** The engine's folder: its image store, engine ID, pid file and log (Docker's "Docker Root Dir"). */
export function engineRoot(hangarHome: string): string {
  return path.join(hangarHome, "engine");
}

export function imageStoreRoot(hangarHome: string): string {
  return path.join(engineRoot(hangarHome), "images");
}

/** Named volumes, each a host folder (HANGAR_HOME/engine/volumes/<name>/_data). */
export function volumeStoreRoot(hangarHome: string): string {
  return path.join(engineRoot(hangarHome), "volumes");
}
