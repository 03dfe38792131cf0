// The built-in Debian base image at work: making debian:bookworm-slim
// (packages configured in the emulator), then `docker build` of a Dockerfile
// FROM it that runs `apt-get update && apt-get install -y jq` against the
// configured mirror, timed against the same command in a plain `docker run`
// of the same image in the same engine (so the ratio is what the builder adds:
// the step's container, its diff and the layer's commit).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../package.json";
import { homeWithDefaultBox } from "../test/system/fixtures/default-box-home";
import type { BenchResult } from "./run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", packageJson.bin.hangar);
const APT = "apt-get update -qq && apt-get install -y -qq --no-install-recommends jq >/dev/null";

export async function run(): Promise<BenchResult[]> {
  const home = await homeWithDefaultBox();
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-debian-image-"));
  const env = { ...process.env, HANGAR_HOME: home, DOCKER_HOST: `unix://${path.join(home, "docker.sock")}`, DOCKER_BUILDKIT: "0", DOCKER_CONFIG: context };
  const docker = (args: string[]) => exec("docker", args, { env, maxBuffer: 64 * 1024 * 1024 });
  const timed = async (what: () => Promise<unknown>): Promise<number> => {
    const start = performance.now();
    await what();
    return performance.now() - start;
  };
  try {
    await exec(process.execPath, [CLI, "engine", "start", "--memory", "512"], { env });
    const makeMs = await timed(() => docker(["pull", "debian:bookworm-slim"]));
    // The first container of the image unpacks it in the engine machine: not part of either side.
    const firstRunMs = await timed(() => docker(["run", "--rm", "debian:bookworm-slim", "true"]));
    await writeFile(path.join(context, "Dockerfile"), `FROM debian:bookworm-slim\nRUN ${APT}\n`);
    const buildMs = await timed(() => docker(["build", "-q", "-t", "bench-jq", context]));
    const runMs = await timed(() => docker(["run", "--rm", "debian:bookworm-slim", "sh", "-c", APT]));
    console.log(
      `debian image: making debian:bookworm-slim ${(makeMs / 1000).toFixed(1)} s, its first container ${(firstRunMs / 1000).toFixed(1)} s, docker build with apt-get install jq ${(buildMs / 1000).toFixed(1)} s, the same in docker run ${(runMs / 1000).toFixed(1)} s`,
    );
    return [{ name: "docker build FROM debian:bookworm-slim with apt-get install jq vs the same apt-get in docker run", value: buildMs, reference: runMs, unit: "ms", targetRatio: 1.5 }];
  } finally {
    await exec(process.execPath, [CLI, "engine", "stop"], { env }).catch(() => undefined);
    await rm(context, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}
