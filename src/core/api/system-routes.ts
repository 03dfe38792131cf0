import * as os from "node:os";
import { product } from "../product";
import { BadParameterError } from "./api-errors";
import type { ApiRouter, RouteHandler } from "./api-router";
import { queryFilters, queryUnixNanos } from "./api-request";
import { sendJson } from "./api-response";
import { API_VERSION, MIN_API_VERSION } from "./api-version";
import { engineRoot, type EngineContext } from "./engine-context";
import { eventJson, matchesEvent, nowNanos, type EngineEvent } from "./engine-events";
import { volumesWithUsage } from "./volume-routes";
import { imageSummary } from "./image-responses";

/** What the engine reports as its platform; the docker CLI prints it after "Server:". */
export const PLATFORM_NAME = "Hangar embedded engine";
/** Containers will run in the engine machine, an i686 guest: images are linux/386. */
const IMAGE_ARCH = "386";
/** Honest until the engine machine boots and can be asked (`uname -r`). */
const KERNEL_VERSION = "unknown until the engine machine runs";

/** Shown by `docker info` so nobody wonders why some commands fail. */
const LIMITS_WARNING = "WARNING: Hangar's engine has no BuildKit: builds use the classic builder (DOCKER_BUILDKIT=0).";

/** Docker's system router: ping, version, info, events, disk usage, auth. */
export function addSystemRoutes(router: ApiRouter, engine: EngineContext): void {
  const ping: RouteHandler = async ({ method, res }) => {
    res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
    res.setHeader("Pragma", "no-cache");
    // "1" is the classic builder: clients then build through the API instead of looking for BuildKit.
    res.setHeader("Builder-Version", "1");
    res.setHeader("Swarm", "inactive");
    res.setHeader("Content-Type", "text/plain; charset=utf-8");
    if (method === "HEAD") {
      res.setHeader("Content-Length", "0");
      res.end();
      return;
    }
    res.setHeader("Content-Length", "2");
    res.end("OK");
  };
  router.get("/_ping", ping);
  router.head("/_ping", ping);

  router.get("/version", async ({ res }) => {
    const details = {
      ApiVersion: API_VERSION,
      Arch: IMAGE_ARCH,
      BuildTime: "",
      Experimental: "false",
      GitCommit: "",
      GoVersion: "",
      KernelVersion: (await engine.machine.kernelVersion()) ?? KERNEL_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Os: "linux",
    };
    sendJson(res, 200, {
      Platform: { Name: PLATFORM_NAME },
      Components: [{ Name: "Engine", Version: product.version, Details: details }],
      Version: product.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: "",
      GoVersion: "",
      Os: "linux",
      Arch: IMAGE_ARCH,
      KernelVersion: (await engine.machine.kernelVersion()) ?? KERNEL_VERSION,
      BuildTime: "",
    });
  });

  router.get("/info", async ({ res }) => {
    const usage = await engine.images.diskUsage();
    const all = engine.containers.list();
    const running = all.filter((c) => c.State.Running).length;
    sendJson(res, 200, {
      ID: engine.engineId,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: 0,
      ContainersStopped: all.length - running,
      Images: usage.images,
      Driver: "overlay2",
      DriverStatus: [],
      Plugins: { Volume: [], Network: [], Authorization: null, Log: [] },
      MemoryLimit: false,
      SwapLimit: false,
      CpuCfsPeriod: false,
      CpuCfsQuota: false,
      CPUShares: false,
      CPUSet: false,
      PidsLimit: false,
      IPv4Forwarding: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: "",
      CgroupDriver: "",
      CgroupVersion: "",
      NEventsListener: engine.events.listenerCount,
      KernelVersion: (await engine.machine.kernelVersion()) ?? KERNEL_VERSION,
      OperatingSystem: `${PLATFORM_NAME} (v86)`,
      OSVersion: "",
      OSType: "linux",
      Architecture: "i686",
      NCPU: 1,
      MemTotal: engine.memoryMiB * 1024 * 1024,
      DockerRootDir: engineRoot(engine.hangarHome),
      HttpProxy: "",
      HttpsProxy: "",
      NoProxy: "",
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: product.version,
      Runtimes: {},
      DefaultRuntime: "",
      Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: "",
      InitBinary: "",
      ContainerdCommit: { ID: "" },
      RuncCommit: { ID: "" },
      InitCommit: { ID: "" },
      SecurityOptions: [],
      // Non-empty, so the CLI prints these instead of guessing warnings from the fields above.
      Warnings: [LIMITS_WARNING],
    });
  });

  /**
   * `docker events`: kept events between since and until, then new ones as
   * they happen; the stream ends at `until` (at once when it is past) or
   * when the client goes.
   */
  router.get("/events", async ({ res, query }) => {
    const filters = queryFilters(query, ["type", "event", "image", "container", "label", "scope"]);
    const since = queryUnixNanos(query, "since");
    const until = queryUnixNanos(query, "until");
    if (since !== undefined && until !== undefined && until < since) throw new BadParameterError("since time cannot be after until time");
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    const send = (e: EngineEvent): void => void (res.writableEnded || res.write(`${eventJson(e)}\n`));
    for (const e of engine.events.past({ since, until, filters })) send(e);
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = engine.events.subscribe((e) => {
        if ((until === undefined || e.timeNano <= until) && matchesEvent(e, filters)) send(e);
      });
      const finish = (): void => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        if (!res.writableEnded) res.end();
        resolve();
      };
      res.once("close", finish);
      if (until !== undefined) {
        const ms = Number((until - nowNanos()) / 1_000_000n);
        if (ms <= 0) finish();
        else if (ms < 2 ** 31) timer = setTimeout(finish, ms);
      }
    });
  });

  router.get("/system/df", async ({ res, query }) => {
    const types = query.getAll("type");
    for (const t of types) if (!["image", "container", "volume", "build-cache"].includes(t)) throw new BadParameterError(`unknown object type: ${t}`);
    const want = (t: string): boolean => types.length === 0 || types.includes(t);
    const body: Record<string, unknown> = {};
    if (want("image")) {
      body.LayersSize = (await engine.images.diskUsage()).layersSize;
      body.Images = (await engine.images.list({ sharedSize: true })).map((i) => imageSummary(i, 0));
    }
    // Until the container runtime (and the builder) land, there are none of these.
    if (want("container")) body.Containers = [];
    if (want("volume")) body.Volumes = await volumesWithUsage(engine);
    if (want("build-cache")) body.BuildCache = [];
    sendJson(res, 200, body);
  });
}
