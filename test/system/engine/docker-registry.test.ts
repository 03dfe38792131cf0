// Images through a real registry (Debian's docker-registry, the distribution
// registry, on 127.0.0.1) with the real docker CLI: push uploads what the
// registry lacks and mounts what another repository holds, pull verifies
// every blob into a store without the image and picks linux/386 from an
// index, and with token authentication login, push, pull and logout behave
// as against Docker.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { engineForThisFile } from "../fixtures/engine-under-test";
import { startRegistry, type LocalRegistry } from "../fixtures/local-registry";

const { docker, engine } = engineForThisFile();
const registries: LocalRegistry[] = [];
after(async () => {
  for (const r of registries) await r.stop();
});

async function registry(o: Parameters<typeof startRegistry>[0] = {}): Promise<LocalRegistry> {
  const r = await startRegistry(o);
  registries.push(r);
  return r;
}

test("a registry with token authentication: refused without login, a wrong password fails login, push and pull after login, refused again after logout", { timeout: 300_000 }, async () => {
  const reg = await registry({ users: { alice: "s3cret" } });
  const name = `${reg.domain}/alice/app`;
  await docker(["tag", "busybox", `${name}:v1`]);
  const anonymous = await docker(["push", `${name}:v1`], true);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /denied|unauthorized|insufficient_scope/i);

  const wrong = await engine().docker(["login", "-u", "alice", "--password-stdin", reg.domain], true, "wrong\n");
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /401 Unauthorized/);
  const login = await engine().docker(["login", "-u", "alice", "--password-stdin", reg.domain], false, "s3cret\n");
  assert.match(login.stdout, /Login Succeeded/);
  const push = await docker(["push", `${name}:v1`]);
  assert.match(push.stdout, /v1: digest: sha256:[0-9a-f]{64}/);
  assert.ok(
    reg.tokenRequests.some((q) => new URLSearchParams(q).getAll("scope").includes("repository:alice/app:pull,push")),
    `the token service was asked for push access: ${reg.tokenRequests.join(" ")}`,
  );
  await docker(["rmi", `${name}:v1`]);
  await docker(["pull", `${name}:v1`]);
  assert.equal((await docker(["run", "--rm", `${name}:v1`, "echo", "private"])).stdout, "private\n");

  await docker(["logout", reg.domain]);
  await docker(["rmi", `${name}:v1`]);
  const refused = await docker(["pull", `${name}:v1`], true);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /denied|unauthorized|insufficient_scope/i);
});

test(
  "push to a registry and pull back into a store without the image: digests match, layers are mounted across repositories, an index yields linux/386, unknown tags and other platforms are refused",
  { timeout: 300_000 },
  async () => {
    const reg = await registry();
    const name = `${reg.domain}/team/bb`;
    await docker(["tag", "busybox", `${name}:1`]);
    const push = await docker(["push", `${name}:1`]);
    assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.domain}/team/bb\\]`));
    assert.match(push.stdout, /Pushed/);
    const digest = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    const listed = (await (await fetch(`http://${reg.domain}/v2/team/bb/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(listed.tags, ["1"]);
    assert.match((await docker(["push", `${name}:1`])).stdout, /Layer already exists/);
    await docker(["tag", "busybox", `${reg.domain}/other/copy:2`]);
    assert.match((await docker(["push", `${reg.domain}/other/copy:2`])).stdout, /Mounted from team\/bb/);

    // Nothing of it left here: the pull fetches and verifies every blob.
    await docker(["rmi", `${name}:1`, `${reg.domain}/other/copy:2`, "busybox"]);
    assert.equal((await docker(["images", "-q"])).stdout, "");
    const pull = await docker(["pull", `${name}:1`]);
    assert.match(pull.stdout, /Pull complete/);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${name}:1`));
    const repoDigests = JSON.parse((await docker(["image", "inspect", "-f", "{{json .RepoDigests}}", `${name}:1`])).stdout) as string[];
    assert.ok(repoDigests.includes(`${name}@${digest}`), repoDigests.join());
    assert.equal((await docker(["run", "--rm", `${name}:1`, "echo", "pulled and running"])).stdout, "pulled and running\n");
    assert.match((await docker(["pull", `${name}:1`])).stdout, /Status: Image is up to date/);
    assert.match((await docker(["pull", `${name}@${digest}`])).stdout, /Digest: /);

    const unknown = await docker(["pull", `${name}:nope`], true);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /manifest unknown/);

    // Indexes: a linux/386 entry is chosen; without one the pull is refused, naming the platforms there are.
    const manifest = await fetch(`http://${reg.domain}/v2/team/bb/manifests/1`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
    const entry = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: Number(manifest.headers.get("content-length")) };
    const putIndex = async (tag: string, platforms: string[]): Promise<void> => {
      const index = {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: platforms.map((p) => ({ ...entry, platform: { os: p.split("/")[0], architecture: p.split("/")[1] } })),
      };
      const res = await fetch(`http://${reg.domain}/v2/team/bb/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": index.mediaType }, body: JSON.stringify(index) });
      assert.equal(res.status, 201, await res.text());
    };
    await putIndex("foreign", ["linux/amd64", "linux/arm64"]);
    const foreign = await docker(["pull", `${name}:foreign`], true);
    assert.notEqual(foreign.code, 0);
    assert.match(foreign.stderr, /no matching manifest for linux\/386 .*linux\/amd64, linux\/arm64/);
    await putIndex("multi", ["linux/amd64", "linux/386"]);
    assert.match((await docker(["pull", `${name}:multi`])).stdout, /Status: Downloaded newer image/);
    assert.equal((await docker(["run", "--rm", `${name}:multi`, "uname", "-m"])).stdout, "i686\n");
    // A Dockerfile's FROM pulls what the store lacks.
    await docker(["rmi", `${name}:multi`]);
    const context = await mkdtemp(path.join(os.tmpdir(), "hangar-registry-build-"));
    try {
      await writeFile(path.join(context, "Dockerfile"), `FROM ${name}:multi\nLABEL built=from-registry\n`);
      const built = await docker(["build", "-t", "from-registry", context]);
      assert.match(built.stdout, new RegExp(`Pulling ${name}:multi from ${reg.domain}`));
      assert.equal((await docker(["image", "inspect", "-f", "{{.Config.Labels.built}}", "from-registry"])).stdout.trim(), "from-registry");
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  },
);
