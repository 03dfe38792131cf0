// Boxes through a real registry (Debian's docker-registry with token
// authentication) with the real hangar CLI: push stores the default box as an
// OCI artifact, pull adds it back byte for byte under another name, using the
// login the docker CLI's config holds; an artifact whose file titles lead out
// of the box folder is refused and adds nothing.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import packageJson from "../../../package.json";
import { runCommand, type Run } from "../fixtures/command-run";
import { homeWithDefaultBox } from "../fixtures/default-box-home";
import { startRegistry, type LocalRegistry } from "../fixtures/local-registry";

const CLI = path.resolve(__dirname, "..", "..", "..", packageJson.bin.hangar);
let home = "";
let dockerConfig = "";
let reg: LocalRegistry;

function hangar(args: string[], allowFail = false): Promise<Run> {
  return runCommand(process.execPath, [CLI, ...args], {
    env: { ...process.env, HANGAR_HOME: home, DOCKER_CONFIG: dockerConfig },
    cwd: home,
    allowFail,
    timeoutMs: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).filter((n) => !n.startsWith("booted-")))
    out[f] = createHash("sha256")
      .update(await readFile(path.join(dir, f)))
      .digest("hex");
  return out;
}

before(async () => {
  home = await homeWithDefaultBox();
  dockerConfig = await mkdtemp(path.join(os.tmpdir(), "hangar-box-docker-config-"));
  reg = await startRegistry({ users: { bob: "box-secret" } });
});

after(async () => {
  await reg?.stop();
  for (const d of [home, dockerConfig]) if (d) await rm(d, { recursive: true, force: true });
});

test("hangar box push and pull: the default box round-trips through a registry with token auth, with the docker CLI's stored login", { timeout: 300_000 }, async () => {
  // `box list` prints Vagrant's "name (provider, version)".
  const [, name, version] = /^(\S+)\s+\(embedded, ([^)]+)\)/m.exec((await hangar(["box", "list"])).stdout) ?? [];
  assert.ok(name && version);
  const ref = `${reg.domain}/boxes/debian`;
  const anonymous = await hangar(["box", "push", name, ref], true);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /refused|denied|unauthorized/i);

  await writeFile(path.join(dockerConfig, "config.json"), JSON.stringify({ auths: { [reg.domain]: { auth: Buffer.from("bob:box-secret").toString("base64") } } }));
  const push = await hangar(["box", "push", name, ref]);
  assert.match(push.stdout, new RegExp(`Pushed box ${name} ${version} \\(embedded\\) to ${reg.domain}/boxes/debian:${version}`));
  assert.match(push.stdout, /Digest: sha256:[0-9a-f]{64}/);
  assert.match((await hangar(["box", "push", name, ref])).stdout, /already in the registry/, "a second push sends no file again");

  const pull = await hangar(["box", "pull", `${ref}:${version}`, "--name", "pulled/debian"]);
  assert.match(pull.stdout, /Added box pulled\/debian/);
  assert.match((await hangar(["box", "list"])).stdout, /^pulled\/debian\s/m);
  const boxes = path.join(home, "boxes");
  const dirOf = async (box: string): Promise<string> => {
    const base = path.join(boxes, box.replace("/", "-VAGRANTSLASH-"));
    const v = (await readdir(base))[0];
    return path.join(base, v, "embedded");
  };
  assert.deepEqual(await digests(await dirOf("pulled/debian")), await digests(await dirOf(name)), "every file of the box, byte for byte (booted states stay home)");
});

test("hangar box pull refuses an artifact whose file titles lead out of the box folder, or that is not a box; nothing is added", { timeout: 120_000 }, async () => {
  await writeFile(path.join(dockerConfig, "config.json"), JSON.stringify({ auths: { [reg.domain]: { auth: Buffer.from("bob:box-secret").toString("base64") } } }));
  const before = (await hangar(["box", "list"])).stdout;
  // Craft the artifacts with the registry API, as a hostile publisher could.
  const token = async (scope: string): Promise<string> => {
    const challenge = (await fetch(`http://${reg.domain}/v2/`)).headers.get("www-authenticate") ?? "";
    const realm = /realm="([^"]+)"/.exec(challenge)![1];
    const service = /service="([^"]+)"/.exec(challenge)![1];
    const res = await fetch(`${realm}?service=${service}&scope=${scope}`, { headers: { Authorization: `Basic ${Buffer.from("bob:box-secret").toString("base64")}` } });
    return ((await res.json()) as { token: string }).token;
  };
  const auth = { Authorization: `Bearer ${await token("repository:evil/box:pull,push")}` };
  const put = async (bytes: Buffer): Promise<string> => {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const start = await fetch(`http://${reg.domain}/v2/evil/box/blobs/uploads/`, { method: "POST", headers: auth });
    const location = new URL(start.headers.get("location")!, `http://${reg.domain}`);
    location.searchParams.set("digest", digest);
    assert.equal((await fetch(location, { method: "PUT", headers: { ...auth, "Content-Type": "application/octet-stream" }, body: bytes })).status, 201);
    return digest;
  };
  const config = Buffer.from(JSON.stringify({ name: "evil/box", version: "1", provider: "embedded", metadata: { provider: "embedded" } }));
  const payload = Buffer.from("planted\n");
  const [configDigest, payloadDigest] = [await put(config), await put(payload)];
  const manifest = (title: string, configType = "application/vnd.hangar.box.config.v1+json") =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: configType, digest: configDigest, size: config.length },
      layers: [{ mediaType: "application/vnd.hangar.box.file.v1", digest: payloadDigest, size: payload.length, annotations: { "org.opencontainers.image.title": title } }],
    });
  for (const [tag, body] of [
    ["up", manifest("../../../planted")],
    ["absolute", manifest(path.join(home, "planted"))],
    ["image", manifest("metadata.json", "application/vnd.oci.image.config.v1+json")],
  ]) {
    const res = await fetch(`http://${reg.domain}/v2/evil/box/manifests/${tag}`, { method: "PUT", headers: { ...auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" }, body });
    assert.equal(res.status, 201, await res.text());
  }
  await mkdir(path.join(home, "boxes"), { recursive: true });
  for (const [tag, message] of [
    ["up", /outside the box; refusing it/],
    ["absolute", /outside the box; refusing it/],
    ["image", /is not a Hangar box/],
  ] as const) {
    const r = await hangar(["box", "pull", `${reg.domain}/evil/box:${tag}`], true);
    assert.notEqual(r.code, 0, tag);
    assert.match(r.stderr, message, tag);
  }
  assert.equal((await hangar(["box", "list"])).stdout, before);
  assert.ok(!existsSync(path.join(home, "planted")) && !existsSync(path.join(home, "boxes", "planted")) && !existsSync(path.join(path.dirname(home), "planted")));
  assert.deepEqual(
    (await readdir(path.join(home, "boxes"))).filter((n) => n.startsWith(".")),
    [],
    "no staging folder left behind",
  );
});
