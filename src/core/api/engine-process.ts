import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ContainerEngine } from "../engine/containers/container-engine";
import { ContainerMounts } from "../engine/containers/container-mounts";
import { ImageStore } from "../engine/images/image-store";
import { EngineMachine } from "../engine/machine/engine-machine";
import { LayerStaging } from "../engine/runtime/layer-staging";
import { NetworkStore } from "../engine/networks/network-store";
import { EngineShares } from "../engine/volumes/engine-shares";
import { VolumeStore } from "../engine/volumes/volume-store";
import { writeFileAtomic } from "../util/atomic-file";
import { errorMessage, FileExistsError } from "../util/errors";
import { ensureHangarHome } from "../util/hangar-home";
import { DefaultRegistry } from "./default-registry";
import { DockerApiServer } from "./docker-api-server";
import { DEFAULT_ENGINE_MEMORY_MIB, engineRoot, imageStoreRoot, volumeStoreRoot, type EngineContext } from "./engine-context";
import { engineSocket, enginePidFile } from "./engine-socket";
import { EngineEvents } from "./engine-events";

export interface ServeEngineOptions {
  memoryMiB?: number;
  /** Default: DEFAULT_IDLE_SUSPEND_MS; 0 never suspends. */
  idleSuspendMs?: number;
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  /** Default: engineSocket(hangarHome). */
  socket?: string;
  log?(line: string): void;
}

export interface RunningEngine {
  server: DockerApiServer;
  engine: EngineContext;
  /** Closes the API and removes the pid file (if it is still this process's). */
  stop(): Promise<void>;
}

/**
 * What the engine process (dist/engine.js) does: open the image store,
 * serve the API on the engine's socket, and record its pid once it
 * listens. Throws EngineAlreadyRunningError when another engine answers.
 */
export async function serveEngine(hangarHome: string, options: ServeEngineOptions = {}): Promise<RunningEngine> {
  ensureHangarHome(hangarHome);
  await fs.mkdir(engineRoot(hangarHome), { recursive: true });
  const env = options.env ?? process.env;
  const images = await ImageStore.open(imageStoreRoot(hangarHome));
  const events = new EngineEvents();
  const memoryMiB = options.memoryMiB ?? DEFAULT_ENGINE_MEMORY_MIB;
  const volumes = await VolumeStore.open(volumeStoreRoot(hangarHome), (action, v) => events.publish("volume", action, v.Name, { driver: v.Driver }));
  const shares = EngineShares.fromEnv(env);
  // The disk is opt-in until its I/O is as fast as memory's (the engine system tests ran 10-45 s slower each on it).
  const disk = env.HANGAR_ENGINE_DISK === "1";
  // Layers reach the engine machine through a share of their own (9p reads are about six times SSH's rate in the guest).
  const staging = new LayerStaging(path.join(engineRoot(hangarHome), "staging"));
  await staging.prepare();
  const machine = new EngineMachine(
    { hangarHome, memoryMiB, idleSuspendMs: options.idleSuspendMs, log: options.log, syncedFolders: shares.syncedFolders(volumes.root, staging), disk, staging, mirror: options.mirror, env },
    images,
  );
  const networks = await NetworkStore.open(engineRoot(hangarHome));
  const containers = await ContainerEngine.open(
    hangarHome,
    images,
    machine,
    (action, r, extra) => {
      events.publish("container", action, r.Id, { image: r.Config.Image, name: r.Name.slice(1), ...extra });
      // As dockerd: a container's endpoints join their networks when it starts and leave when it stops, and the network stream says so.
      if (action !== "start" && action !== "die") return;
      for (const ep of Object.values(r.NetworkSettings.Networks)) {
        const n = networks.list().find((x) => x.Id === ep.NetworkID);
        if (n) events.publish("network", action === "start" ? "connect" : "disconnect", n.Id, { container: r.Id, name: n.Name, type: n.Driver });
      }
    },
    networks,
    new ContainerMounts(volumes, shares),
  );
  const engine: EngineContext = {
    hangarHome,
    images,
    containers,
    networks,
    volumes,
    shares,
    machine,
    events,
    registry: await DefaultRegistry.load(engineRoot(hangarHome), env),
    engineId: await engineId(hangarHome),
    memoryMiB,
    mirror: options.mirror,
    env,
  };
  const server = await DockerApiServer.listen(options.socket ?? engineSocket(hangarHome), engine, { log: options.log });
  const pidFile = enginePidFile(hangarHome);
  await writeFileAtomic(pidFile, `${process.pid}\n`);
  // Containers whose restart policy says so start again, as dockerd restores them (in the background: the API answers meanwhile).
  void containers.restartWithEngine(options.log);
  return {
    server,
    engine,
    async stop() {
      await server.close();
      // Containers stop with the engine (as with dockerd); the machine is suspended, not halted, so their writable layers and the unpacked images are there next time.
      await containers.shutdown();
      await machine.suspend().catch((err: unknown) => options.log?.(`suspending the engine machine failed: ${errorMessage(err)}`));
      await machine.stop();
      const recorded = await fs.readFile(pidFile, "utf8").catch(() => "");
      if (recorded.trim() === String(process.pid)) await fs.rm(pidFile, { force: true });
    },
  };
}

/** Docker's engine ID: made once per HANGAR_HOME, kept across restarts (clients use it to tell engines apart). */
async function engineId(hangarHome: string): Promise<string> {
  const file = path.join(engineRoot(hangarHome), "engine-id");
  const existing = (await fs.readFile(file, "utf8").catch(() => "")).trim();
  if (existing) return existing;
  try {
    await writeFileAtomic(file, `${randomUUID()}\n`, { exclusive: true });
  } catch (err) {
    if (!(err instanceof FileExistsError)) throw err;
  }
  return (await fs.readFile(file, "utf8")).trim();
}
