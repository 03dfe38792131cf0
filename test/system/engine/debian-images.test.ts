// The built-in Debian base images with the real docker CLI: a Dockerfile
// FROM debian:bookworm-slim makes the image from Debian packages (configured
// in the emulator), installs a package with apt-get from the configured
// mirror through the containers' NAT and DNS, adds a user, and runs as
// under Docker; the image itself is what Debian's slim image is (every
// package configured, no documentation but copyright files, Docker's apt
// settings, linux/386). The image is made once per machine (debian-image-cache.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { keepDebianImage, loadKeptDebianImage } from "../fixtures/debian-image-cache";
import { engineForThisFile } from "../fixtures/engine-under-test";

// apt and a Debian root want more room than the warm 128 MiB engine machine has: this file's machine starts cold with 512 MiB.
const { docker } = engineForThisFile({ coldMachine: true, startArgs: ["--memory", "512"] });

test("FROM debian:bookworm-slim: apt-get update && apt-get install from the mirror, useradd, USER; the image runs as under Docker", { timeout: 900_000 }, async () => {
  const context = await mkdtemp(path.join(os.tmpdir(), "hangar-debian-build-"));
  try {
    await writeFile(
      path.join(context, "Dockerfile"),
      [
        "FROM debian:bookworm-slim",
        // One step (each step is a container and a layer: the emulated engine's time).
        "RUN apt-get update && apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 1000 --user-group app",
        "USER app",
        "WORKDIR /home/app",
        // The package is in dpkg's database as apt left it; the lists were removed in the same step.
        'CMD ["sh", "-c", "echo \'{\\"a\\": [1, 2]}\' | jq -c .a; id; pwd; dpkg-query -W -f \'${Status}\\n\' jq; ls /var/lib/apt/lists | wc -l"]',
        "",
      ].join("\n"),
    );
    const kept = await loadKeptDebianImage(docker);
    const built = await docker(["build", "-t", "jq-app", context]);
    if (!kept) await keepDebianImage(docker);
    assert.match(built.stdout, /Setting up jq /);
    assert.match(built.stdout, /Successfully tagged jq-app:latest/);
    const run = await docker(["run", "--rm", "jq-app"]);
    assert.equal(run.stdout, "[1,2]\nuid=1000(app) gid=1000(app) groups=1000(app)\n/home/app\ninstall ok installed\n0\n");
  } finally {
    await rm(context, { recursive: true, force: true });
  }
});

test("debian:bookworm-slim is Debian's slim image: minbase configured, docs left out, Docker's apt settings, linux/386; a pull finds it up to date", { timeout: 300_000 }, async () => {
  const inspect = JSON.parse((await docker(["image", "inspect", "debian:bookworm-slim"])).stdout) as Array<{
    Architecture: string;
    Os: string;
    Config: { Cmd: string[]; Env: string[] };
    RepoTags: string[];
  }>;
  assert.equal(inspect[0]!.Architecture, "386");
  assert.equal(inspect[0]!.Os, "linux");
  assert.deepEqual(inspect[0]!.Config.Cmd, ["bash"]);
  assert.deepEqual([...inspect[0]!.RepoTags].sort(), ["debian:12-slim", "debian:bookworm-slim"]);
  const script = [
    "grep '^VERSION_CODENAME=' /etc/os-release",
    "dpkg --audit && echo audit-clean",
    "dpkg-query -W -f '${Status}\\n' | sort | uniq -c | sed 's/^ *[0-9]* //'",
    "dpkg-query -W apt dash mawk usr-is-merged >/dev/null && echo minbase",
    "find /usr/share/doc -type f ! -name copyright | wc -l",
    "find /usr/share/man /usr/share/locale -type f | wc -l",
    "ls /usr/share/doc/bash",
    "ls /etc/apt/apt.conf.d | grep -c '^docker-'",
    "cat /etc/dpkg/dpkg.cfg.d/docker-apt-speedup",
    "test -e /usr/sbin/policy-rc.d || echo no-policy-rc.d",
    "test -e /usr/lib/hangar || echo no-build-files",
    "readlink /bin",
  ].join("; ");
  const out = await docker(["run", "--rm", "debian:bookworm-slim", "bash", "-c", script]);
  assert.equal(
    out.stdout,
    ["VERSION_CODENAME=bookworm", "audit-clean", "install ok installed", "minbase", "0", "0", "copyright", "4", "force-unsafe-io", "no-policy-rc.d", "no-build-files", "usr/bin", ""].join("\n"),
  );
  const pull = await docker(["pull", "debian:bookworm-slim"]);
  assert.match(pull.stdout, /Image is up to date for debian:bookworm-slim/);
});
