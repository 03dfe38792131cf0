import type Dockerode from "dockerode";
import * as vscode from "vscode";
import { engineStatus, startEngine } from "../../core/api/engine-control";
import { JsonMessageSplitter } from "../../core/docker/build/build-progress";
import { connectDocker, describeDockerError, type DockerConnection } from "../../core/docker/endpoints/docker-connection";
import type { ConfiguredEndpoint, DockerEndpoint } from "../../core/docker/endpoints/docker-endpoint";
import { discoverEndpoints } from "../../core/docker/endpoints/endpoint-discovery";
import { HangarError } from "../../core/util/errors";
import type { HangarContext } from "../hangar-context";
import { engineStartOptions } from "../commands/engine/engine-settings";

/** What a view lists; each has its change event. */
type Kind = "images" | "containers" | "networks" | "volumes";

export type EndpointState = { kind: "idle" } | { kind: "connecting" } | { kind: "ready"; version: string } | { kind: "unreachable"; message: string };

const SELECTED_KEY = "hangar.docker.endpoint";
const EMBEDDED_ID = "embedded";
/** Events arriving close together (a build tags, a run creates and starts) refresh the views once. */
const EVENT_SETTLE_MS = 150;

/**
 * The Docker endpoint the Images and Containers views show: the embedded
 * engine (started on first need) or a real Docker Engine chosen by the user.
 * Views refresh from the API's event stream; when the stream breaks the
 * endpoint is marked unreachable and retried with backoff, never polled
 * while it works.
 */
export class DockerService implements vscode.Disposable {
  private readonly endpointChanged = new vscode.EventEmitter<DockerEndpoint>();
  private readonly stateChanged = new vscode.EventEmitter<EndpointState>();
  private readonly imagesChanged = new vscode.EventEmitter<void>();
  private readonly containersChanged = new vscode.EventEmitter<void>();
  private readonly networksChanged = new vscode.EventEmitter<void>();
  private readonly volumesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeEndpoint = this.endpointChanged.event;
  readonly onDidChangeState = this.stateChanged.event;
  readonly onDidChangeImages = this.imagesChanged.event;
  readonly onDidChangeContainers = this.containersChanged.event;
  readonly onDidChangeNetworks = this.networksChanged.event;
  readonly onDidChangeVolumes = this.volumesChanged.event;

  private current?: DockerEndpoint;
  private conn?: Promise<DockerConnection>;
  private stateValue: EndpointState = { kind: "idle" };
  private events?: { stop(): void };
  private retry?: NodeJS.Timeout;
  private retryMs = 1000;
  private watching = false;
  private readonly settle: Partial<Record<Kind, NodeJS.Timeout>> = {};
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly hangar: HangarContext) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("hangar.home") || e.affectsConfiguration("hangar.docker.endpoints")) void this.reset();
      }),
    );
  }

  get state(): EndpointState {
    return this.stateValue;
  }

  /** Every endpoint this computer knows: embedded first, then DOCKER_HOST, the local socket, Docker contexts and the setting's. */
  endpoints(): Promise<DockerEndpoint[]> {
    const configured = vscode.workspace.getConfiguration("hangar").get<ConfiguredEndpoint[]>("docker.endpoints", []);
    return discoverEndpoints({ hangarHome: this.hangar.hangarHome, env: process.env, configured: Array.isArray(configured) ? configured : [] });
  }

  /** The selected endpoint (the embedded engine unless the user chose another that still exists). */
  async endpoint(): Promise<DockerEndpoint> {
    if (this.current) return this.current;
    const all = await this.endpoints();
    const id = this.hangar.extension.globalState.get<string>(SELECTED_KEY, EMBEDDED_ID);
    this.current = all.find((e) => e.id === id) ?? all[0];
    return this.current;
  }

  async select(endpoint: DockerEndpoint): Promise<void> {
    await this.hangar.extension.globalState.update(SELECTED_KEY, endpoint.id);
    await this.reset(endpoint);
  }

  /** Forgets the connection (and the endpoint, when another is given or settings changed) and lets the views reload. */
  async reset(endpoint?: DockerEndpoint): Promise<void> {
    this.stopEvents();
    const old = this.conn;
    this.conn = undefined;
    this.current = endpoint;
    void old?.then(
      (c) => c.dispose(),
      () => undefined,
    );
    this.setState({ kind: "idle" });
    const now = await this.endpoint();
    this.endpointChanged.fire(now);
    this.fireAll();
    if (this.watching) this.startEvents();
  }

  /**
   * Runs `fn` against the current endpoint, connecting first (and starting
   * the embedded engine when it is the endpoint and not running). Errors
   * become one line naming the endpoint and the API's message.
   */
  async use<T>(what: string, fn: (docker: Dockerode) => Promise<T>, start = true): Promise<T> {
    const endpoint = await this.endpoint();
    let connection: DockerConnection;
    try {
      connection = await this.connection(start);
    } catch (err) {
      const message = describeDockerError(err, endpoint);
      this.setState({ kind: "unreachable", message });
      throw new HangarError(`${what}: ${message}`);
    }
    try {
      return await fn(connection.docker);
    } catch (err) {
      if (err instanceof HangarError) throw err;
      const message = describeDockerError(err, endpoint);
      if (!(err as { statusCode?: number }).statusCode) this.setState({ kind: "unreachable", message });
      throw new HangarError(`${what}: ${message}`);
    }
  }

  /** For views: like `use`, but an unreachable endpoint is a state to show, not an error to raise. */
  async list<T>(fn: (docker: Dockerode) => Promise<T>): Promise<{ value?: T; error?: string }> {
    try {
      const value = await this.use("Listing", fn, startWithViews());
      if (this.stateValue.kind !== "ready") void this.probe();
      return { value };
    } catch (err) {
      // `use` has marked the endpoint unreachable when it is; an API error (a 404 on an image just removed) is not that.
      return { error: err instanceof Error ? err.message.replace(/^Listing: /, "") : String(err) };
    }
  }

  /** Starts following the endpoint's events (when a view first shows). */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.startEvents();
  }

  private async probe(): Promise<void> {
    try {
      const c = await this.connection(startWithViews());
      const v = (await c.docker.version()) as { Version?: string; ApiVersion?: string };
      this.setState({ kind: "ready", version: v.Version ?? v.ApiVersion ?? "" });
    } catch (err) {
      this.setState({ kind: "unreachable", message: describeDockerError(err, await this.endpoint()) });
    }
  }

  /** The connection, made once; `start`: whether the embedded engine is started when it is not running. */
  private connection(start = true): Promise<DockerConnection> {
    if (!this.conn) {
      const attempt = (async () => {
        const endpoint = await this.endpoint();
        this.setState({ kind: "connecting" });
        if (endpoint.source === "embedded") await this.startEmbedded(start);
        return connectDocker(endpoint);
      })();
      this.conn = attempt;
      // A failed attempt is not kept: the next request tries again.
      attempt.catch(() => {
        if (this.conn === attempt) this.conn = undefined;
      });
    }
    // A view's attempt leaves a stopped engine stopped; a command that needs the engine then starts it.
    const conn = this.conn;
    return start ? conn.catch((err: unknown) => (err instanceof EngineNotRunning ? this.connection(true) : Promise.reject(err))) : conn;
  }

  /**
   * The HANGAR_HOME whose engine Stop Container Engine stopped: the views do
   * not start it again (their retries would undo the stop) until Start
   * Container Engine. Another home's engine (hangar.home changed) is not held.
   */
  private heldHome?: string;

  /** Stop/Start Container Engine: whether the views may start this home's embedded engine themselves; reconnects the views. */
  async holdEmbedded(stopped: boolean): Promise<void> {
    this.heldHome = stopped ? this.hangar.hangarHome : undefined;
    await this.reset(this.current);
  }

  private async startEmbedded(start: boolean): Promise<void> {
    if (this.heldHome === this.hangar.hangarHome) throw new HangarError("Hangar's container engine is stopped.", "Start it with Hangar: Start Container Engine.");
    if (!start) {
      if ((await engineStatus(this.hangar.hangarHome)).running) return;
      throw new EngineNotRunning();
    }
    const { started, status } = await startEngine(this.hangar.hangarHome, engineStartOptions());
    if (!started) return;
    this.hangar.log.info(`Started Hangar's container engine on ${status.dockerHost} (pid ${status.pid ?? "?"}).`);
    // Views waiting out a back-off (they found it stopped) follow it now.
    if (this.retry && this.watching) {
      clearTimeout(this.retry);
      this.retry = undefined;
      this.retryMs = 1000;
      setImmediate(() => this.startEvents());
    }
  }

  private startEvents(): void {
    if (this.events || this.retry) return;
    let stopped = false;
    let stream: NodeJS.ReadableStream | undefined;
    const destroy = (): void => (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    // This stream's own handle: a reset may already have started the next one, which this one must not touch.
    const handle = {
      stop: () => {
        stopped = true;
        destroy();
      },
    };
    this.events = handle;
    void (async () => {
      try {
        const c = await this.connection(startWithViews());
        stream = (await c.docker.getEvents({})) as NodeJS.ReadableStream;
        if (stopped) return destroy();
        void this.probe();
        this.retryMs = 1000;
        // What changed while nothing listened.
        this.fireAll();
        const splitter = new JsonMessageSplitter();
        stream.on("data", (chunk: Buffer) => {
          for (const e of splitter.push(chunk.toString("utf8"))) this.onEvent(e as { Type?: string; Action?: string });
        });
        await new Promise<void>((resolve) => {
          stream!.once("end", resolve);
          stream!.once("close", resolve);
          stream!.once("error", () => resolve());
        });
        if (stopped) return;
        this.setState({ kind: "unreachable", message: `The event stream from ${(await this.endpoint()).host} ended.` });
      } catch (err) {
        if (stopped) return;
        this.setState({ kind: "unreachable", message: describeDockerError(err, await this.endpoint()) });
      }
      if (this.events !== handle) return;
      this.events = undefined;
      // The connection may be what broke (an engine restart): make a new one on retry.
      const old = this.conn;
      this.conn = undefined;
      void old?.then(
        (c) => c.dispose(),
        () => undefined,
      );
      this.fireAll();
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (this.watching) this.startEvents();
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    })();
  }

  private stopEvents(): void {
    this.events?.stop();
    this.events = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.retryMs = 1000;
  }

  private onEvent(e: { Type?: string; Action?: string }): void {
    if (e.Type === "image") this.soon("images");
    if (e.Type === "network") this.soon("networks");
    if (e.Type === "volume") this.soon("volumes");
    if (e.Type === "container") {
      this.soon("containers");
      // Image rows show how many containers use them; volume rows which containers mount them.
      if (e.Action === "create" || e.Action === "destroy") {
        this.soon("images");
        this.soon("volumes");
      }
      // A network lists the running containers on it: refresh on start and stop too, whatever network events the engine sends.
      if (e.Action === "start" || e.Action === "die" || e.Action === "destroy") this.soon("networks");
    }
  }

  private soon(which: Kind): void {
    if (this.settle[which]) return;
    this.settle[which] = setTimeout(() => {
      this.settle[which] = undefined;
      this.emitters()[which].fire();
    }, EVENT_SETTLE_MS);
  }

  private emitters(): Record<Kind, vscode.EventEmitter<void>> {
    return { images: this.imagesChanged, containers: this.containersChanged, networks: this.networksChanged, volumes: this.volumesChanged };
  }

  /** Every view reloads (another endpoint, a new or broken event stream). */
  private fireAll(): void {
    for (const e of Object.values(this.emitters())) e.fire();
  }

  private setState(state: EndpointState): void {
    if (JSON.stringify(state) === JSON.stringify(this.stateValue)) return;
    this.stateValue = state;
    this.stateChanged.fire(state);
  }

  dispose(): void {
    this.watching = false;
    this.stopEvents();
    void this.conn?.then(
      (c) => c.dispose(),
      () => undefined,
    );
    for (const d of this.disposables) d.dispose();
    for (const t of Object.values(this.settle)) clearTimeout(t);
    for (const e of [this.endpointChanged, this.stateChanged, ...Object.values(this.emitters())]) e.dispose();
  }
}

/** hangar.engine.startWithViews: whether showing a Docker view starts a stopped embedded engine. */
function startWithViews(): boolean {
  return vscode.workspace.getConfiguration("hangar").get<boolean>("engine.startWithViews", true);
}

/** Whether a view's error says Hangar's own engine is stopped (held by Stop Container Engine, or not started by the views). */
export function isEngineStopped(message: string): boolean {
  return /^Hangar's container engine is (stopped|not running)\./.test(message);
}

/** The embedded engine is not running, and the views were not to start it. */
class EngineNotRunning extends HangarError {
  constructor() {
    super("Hangar's container engine is not running.", "Start it with Hangar: Start Container Engine, or set hangar.engine.startWithViews to let the views start it.");
  }
}
