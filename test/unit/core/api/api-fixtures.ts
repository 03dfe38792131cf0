import * as http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tar from "tar-stream";
import { DefaultRegistry } from "../../../../src/core/api/default-registry";
import { DockerApiServer } from "../../../../src/core/api/docker-api-server";
import type { EngineContext } from "../../../../src/core/api/engine-context";
import { EngineEvents } from "../../../../src/core/api/engine-events";
import { ContainerEngine } from "../../../../src/core/engine/containers/container-engine";
import { ImageStore } from "../../../../src/core/engine/images/image-store";
import { NetworkStore } from "../../../../src/core/engine/networks/network-store";
import { EngineMachine } from "../../../../src/core/engine/machine/engine-machine";
import { ContainerMounts } from "../../../../src/core/engine/containers/container-mounts";
import { EngineShares } from "../../../../src/core/engine/volumes/engine-shares";
import { VolumeStore } from "../../../../src/core/engine/volumes/volume-store";

/** A real API server on a temporary socket, over a real (empty) image store; its engine machine (no box in this home) never starts. */
export interface TestEngine {
  dir: string;
  socket: string;
  engine: EngineContext;
  server: DockerApiServer;
  close(): Promise<void>;
}

export async function startTestEngine(): Promise<TestEngine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-api-"));
  const images = await ImageStore.open(path.join(dir, "engine", "images"));
  const machine = new EngineMachine({ hangarHome: dir, memoryMiB: 256 }, images);
  const networks = await NetworkStore.open(path.join(dir, "engine"));
  const events = new EngineEvents();
  const volumes = await VolumeStore.open(path.join(dir, "engine", "volumes"), (action, v) => events.publish("volume", action, v.Name));
  // Bind mounts may come from the test's own folder only.
  const shares = EngineShares.of([dir]);
  const engine: EngineContext = {
    hangarHome: dir,
    images,
    machine,
    containers: await ContainerEngine.open(dir, images, machine, () => undefined, networks, new ContainerMounts(volumes, shares)),
    networks,
    volumes,
    shares,
    events,
    registry: await DefaultRegistry.load(path.join(dir, "engine"), {}),
    engineId: "test-engine",
    memoryMiB: 256,
    env: {},
  };
  const socket = path.join(dir, "docker.sock");
  const server = await DockerApiServer.listen(socket, engine);
  return {
    dir,
    socket,
    engine,
    server,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

/** One HTTP request over the unix socket, as a Docker client makes it. */
export function request(socket: string, method: string, urlPath: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: urlPath, headers: { Host: "docker", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, text: data.toString("utf8"), json: () => JSON.parse(data.toString("utf8")) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A small image in the store, made from one layer holding `file`, tagged with `tags`; returns its ID. */
export async function addImage(t: TestEngine, tags: string[], file = "hello.txt", labels?: Record<string, string>): Promise<string> {
  const pack = tar.pack();
  pack.entry({ name: file, mode: 0o644, mtime: new Date("2024-01-02T03:04:05Z") }, Buffer.from(`content of ${file}\n`));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  const layer = path.join(t.dir, `${file}.tar`);
  await writeFile(layer, Buffer.concat(chunks));
  const image = await t.engine.images.create({
    config: { Cmd: ["sh"], ...(labels ? { Labels: labels } : {}) },
    layers: [{ tarPath: layer, createdBy: `ADD ${file}` }],
    tags,
    created: new Date("2024-01-02T03:04:05Z"),
  });
  return image.id;
}

/** A tar built in memory (for hostile archives). */
export async function tarOf(entries: Array<{ name: string; body: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644 }, Buffer.from(e.body));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
