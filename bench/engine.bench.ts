// The embedded container engine, driven by the real docker CLI:
//  - `docker run --rm busybox true` on a warm engine (goal <= 1 s) vs the
//    docker CLI's own round trip (`docker version`, no guest work);
//  - the same on --network none (what wiring the default bridge costs);
//  - `docker exec` into a running container vs `docker version`;
//  - a 5-step Dockerfile built cold (--no-cache) vs the same build cached.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../test/system/fixtures/default-box-home";
import type { BenchResult } from "./run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", packageJson.bin.hangar);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<BenchResult[]> {
  const home = await homeWithDefaultBox();
  const shared = path.join(os.tmpdir(), "hangar-test-default-box", "cache");
  if (existsSync(shared)) await cp(shared, path.join(home, "cache"), { recursive: true });
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-context-"));
  const env = { ...process.env, HANGAR_HOME: home, DOCKER_HOST: `unix://${path.join(home, "docker.sock")}`, DOCKER_BUILDKIT: "0" };
  const docker = (args: string[]) => exec("docker", args, { env, maxBuffer: 16 * 1024 * 1024 });
  const timed = async (args: string[]): Promise<number> => {
    const t = performance.now();
    await docker(args);
    return performance.now() - t;
  };
  try {
    await exec(process.execPath, [CLI, "engine", "start", "--memory", String(FIXTURE_MEMORY_MIB)], { env });
    const first = await timed(["run", "--rm", "busybox", "true"]); // starts the engine machine, pulls and unpacks busybox
    // Warm-up: v86 translates hot guest code to WebAssembly as it runs, so the first few starts of a boot are slower
    // than every later one; "warm" is measured after them, over enough runs that the median holds still.
    const warmUp: number[] = [];
    for (let i = 0; i < 6; i++) {
      warmUp.push(await timed(["run", "--rm", "busybox", "true"]));
      warmUp.push(await timed(["run", "--rm", "--network", "none", "busybox", "true"]));
    }
    const runs: number[] = [];
    const isolated: number[] = [];
    const versions: number[] = [];
    for (let i = 0; i < 15; i++) {
      runs.push(await timed(["run", "--rm", "busybox", "true"]));
      isolated.push(await timed(["run", "--rm", "--network", "none", "busybox", "true"]));
      versions.push(await timed(["version"]));
    }
    await docker(["run", "-d", "--name", "bench-exec", "busybox", "sleep", "600"]);
    const execs: number[] = [];
    for (let i = 0; i < 7; i++) execs.push(await timed(["exec", "bench-exec", "true"]));
    await docker(["rm", "-f", "bench-exec"]);
    await writeFile(path.join(context, "app.txt"), "payload\n");
    await writeFile(path.join(context, "Dockerfile"), 'FROM busybox\nWORKDIR /app\nCOPY app.txt .\nRUN cp app.txt copy.txt\nENV MODE=bench\nCMD ["cat", "copy.txt"]\n');
    const cold = await timed(["build", "--no-cache", "-t", "bench", context]);
    const cached = await timed(["build", "-t", "bench", context]);
    console.log(
      `engine: first docker run ${first.toFixed(0)} ms (engine machine start + image unpack); the next 12 (warm-up) ${warmUp.map((t) => t.toFixed(0)).join(" ")} ms; warm docker run --rm busybox true median ${median(runs).toFixed(0)} ms (goal <= 1000 ms); ` +
        `(--network none ${median(isolated).toFixed(0)} ms); docker exec true median ${median(execs).toFixed(0)} ms; docker version ${median(versions).toFixed(0)} ms; 5-step build cold ${cold.toFixed(0)} ms, cached ${cached.toFixed(0)} ms`,
    );
    return [
      { name: "docker run --rm busybox true (warm) vs docker version round trip", value: median(runs), reference: median(versions), unit: "ms" },
      { name: "5-step Dockerfile build cached vs cold (--no-cache)", value: cached, reference: cold, unit: "ms" },
      { name: "docker run --rm busybox true on the default bridge vs --network none (the network's cost)", value: median(runs), reference: median(isolated), unit: "ms" },
      { name: "docker exec (warm) vs docker version round trip", value: median(execs), reference: median(versions), unit: "ms" },
    ];
  } finally {
    await exec(process.execPath, [CLI, "engine", "stop"], { env }).catch(() => undefined);
    await rm(context, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}
