// Pulling through Hangar's registry client, against the same bytes fetched
// with curl in the same run: a ~100 MB image (busybox plus one 100 MB layer of
// random data, pushed by the engine itself) in a real registry (Debian's
// docker-registry on 127.0.0.1), then `docker pull` into a store without it
// (download, digest checks, staging and publishing every blob) vs `curl` of
// its manifest and blobs to /dev/null. No guest work is involved.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../package.json";
import { FIXTURE_MEMORY_MIB, homeWithDefaultBox } from "../test/system/fixtures/default-box-home";
import { startRegistry } from "../test/system/fixtures/local-registry";
import type { BenchResult } from "./run";

const exec = promisify(execFile);
const CLI = path.resolve(__dirname, "..", packageJson.bin.hangar);
const LAYER_MIB = 100;

export async function run(): Promise<BenchResult[]> {
  const home = await homeWithDefaultBox();
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-registry-"));
  const reg = await startRegistry();
  const env = { ...process.env, HANGAR_HOME: home, DOCKER_HOST: `unix://${path.join(home, "docker.sock")}`, DOCKER_BUILDKIT: "0", DOCKER_CONFIG: context };
  const docker = (args: string[]) => exec("docker", args, { env, maxBuffer: 64 * 1024 * 1024 });
  try {
    await exec(process.execPath, [CLI, "engine", "start", "--memory", String(FIXTURE_MEMORY_MIB)], { env });
    await writeFile(path.join(context, "payload.bin"), randomBytes(LAYER_MIB << 20));
    await writeFile(path.join(context, "Dockerfile"), "FROM busybox\nCOPY payload.bin /payload.bin\n");
    const name = `${reg.domain}/bench/big:1`;
    await docker(["build", "-q", "-t", name, context]);
    const pushStart = performance.now();
    await docker(["push", name]);
    const pushMs = performance.now() - pushStart;
    await docker(["rmi", name]);
    await docker(["rmi", "busybox"]);

    const pullStart = performance.now();
    await docker(["pull", name]);
    const pullMs = performance.now() - pullStart;

    // The reference: the same manifest and blobs, fetched with curl.
    const curlStart = performance.now();
    const manifest = (await exec("curl", ["-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json", `http://${reg.domain}/v2/bench/big/manifests/1`], { maxBuffer: 1 << 20 })).stdout;
    const parsed = JSON.parse(manifest) as { config: { digest: string }; layers: Array<{ digest: string }> };
    for (const d of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)]) await exec("curl", ["-sf", "-o", "/dev/null", `http://${reg.domain}/v2/bench/big/blobs/${d}`]);
    const curlMs = performance.now() - curlStart;
    console.log(
      `registry: push ${pushMs.toFixed(0)} ms, docker pull ${pullMs.toFixed(0)} ms, curl of the same manifest and ${parsed.layers.length} blobs ${curlMs.toFixed(0)} ms (${LAYER_MIB} MiB layer)`,
    );
    return [{ name: `docker pull of a ${LAYER_MIB} MiB image from a local registry vs curl of its blobs`, value: pullMs, reference: curlMs, unit: "ms", targetRatio: 5 }];
  } finally {
    await exec(process.execPath, [CLI, "engine", "stop"], { env }).catch(() => undefined);
    await reg.stop();
    await rm(context, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}
