// packBuildContext packs a real folder the way the docker CLI does: a tar of
// everything .dockerignore lets through (with `!` re-includes), the Dockerfile
// and .dockerignore always in, symlinks kept as links, and a clear HangarError
// for a Dockerfile that is outside the folder or missing.
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import * as tar from "tar-stream";
import { packBuildContext } from "../../../../../src/core/docker/build/build-context";
import { HangarError } from "../../../../../src/core/util/errors";

interface Entry {
  type: string;
  body: string;
  linkname?: string;
  mode: number;
}

function readTar(stream: Readable): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    const extract = tar.extract();
    extract.on("entry", (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on("data", (c: unknown) => chunks.push(c as Buffer));
      body.on("end", () => {
        entries.set(header.name.replace(/\/$/, ""), { type: header.type ?? "file", body: Buffer.concat(chunks).toString("utf8"), linkname: header.linkname ?? undefined, mode: header.mode ?? 0 });
        next();
      });
    });
    extract.once("finish", () => resolve(entries));
    extract.once("error", reject);
    stream.once("error", reject);
    stream.pipe(extract);
  });
}

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), text);
  }
}

describe("packBuildContext", () => {
  let tmp: string;
  let n = 0;
  const folder = async (files: Record<string, string>): Promise<string> => {
    const dir = path.join(tmp, `ctx${++n}`);
    await fs.mkdir(dir);
    await write(dir, files);
    return dir;
  };
  const pack = async (dir: string, dockerfile = "Dockerfile") => {
    const ctx = await packBuildContext(dir, dockerfile);
    return { dockerfile: ctx.dockerfile, entries: await readTar(ctx.tar) };
  };

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-build-context-"));
  });
  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("packs every file and folder, with their contents, sorted", async () => {
    const dir = await folder({ Dockerfile: "FROM alpine\nCOPY . /app\n", "app/main.js": "console.log(1)\n", "app/lib/util.js": "exports.x = 1;\n", "README.md": "# hi\n" });
    const { dockerfile, entries } = await pack(dir);
    assert.equal(dockerfile, "Dockerfile");
    assert.deepEqual([...entries.keys()], ["Dockerfile", "README.md", "app", "app/lib", "app/lib/util.js", "app/main.js"]);
    assert.equal(entries.get("Dockerfile")?.body, "FROM alpine\nCOPY . /app\n");
    assert.equal(entries.get("app/lib/util.js")?.body, "exports.x = 1;\n");
    assert.equal(entries.get("app")?.type, "directory");
    assert.equal(entries.get("app/main.js")?.type, "file");
  });

  it("keeps file permissions", { skip: process.platform === "win32" }, async () => {
    const dir = await folder({ Dockerfile: "FROM alpine\n", "run.sh": "#!/bin/sh\n" });
    await fs.chmod(path.join(dir, "run.sh"), 0o755);
    await fs.chmod(path.join(dir, "Dockerfile"), 0o640);
    const { entries } = await pack(dir);
    assert.equal(entries.get("run.sh")?.mode, 0o755);
    assert.equal(entries.get("Dockerfile")?.mode, 0o640);
  });

  it("leaves out what .dockerignore excludes, and takes back `!` re-includes", async () => {
    const dir = await folder({
      Dockerfile: "FROM alpine\n",
      ".dockerignore": "# comment\n*.log\nnode_modules\nsecrets/\n!secrets/public.pem\ndocs/**/*.md\n",
      "app.js": "1",
      "debug.log": "x",
      "node_modules/left-pad/index.js": "x",
      "secrets/private.key": "x",
      "secrets/public.pem": "pem",
      "docs/guide/a.md": "x",
      "docs/guide/a.png": "png",
      "keep/trace.log.txt": "kept",
    });
    const { entries } = await pack(dir);
    assert.deepEqual([...entries.keys()].sort(), [".dockerignore", "Dockerfile", "app.js", "docs", "docs/guide", "docs/guide/a.png", "keep", "keep/trace.log.txt", "secrets/public.pem"]);
    assert.equal(entries.get("secrets/public.pem")?.body, "pem");
  });

  it("leaves out an excluded folder and everything under it", async () => {
    const dir = await folder({ Dockerfile: "FROM alpine\n", ".dockerignore": "cache\n", "cache/a/b/c": "x", "src/x": "y" });
    const { entries } = await pack(dir);
    assert.deepEqual([...entries.keys()].sort(), [".dockerignore", "Dockerfile", "src", "src/x"]);
  });

  it("always sends the Dockerfile and .dockerignore, even when they are ignored", async () => {
    const dir = await folder({ Dockerfile: "FROM alpine\n", ".dockerignore": "Dockerfile\n.dockerignore\n*\n", other: "x" });
    const { entries } = await pack(dir);
    assert.deepEqual([...entries.keys()].sort(), [".dockerignore", "Dockerfile"]);
  });

  it("sends a Dockerfile in an ignored subfolder", async () => {
    const dir = await folder({ "docker/Dockerfile": "FROM alpine\n", "docker/notes.txt": "x", ".dockerignore": "docker\n", "app.js": "1" });
    const { dockerfile, entries } = await pack(dir, "docker/Dockerfile");
    assert.equal(dockerfile, "docker/Dockerfile");
    assert.ok(entries.has("docker/Dockerfile"), [...entries.keys()].join(", "));
    assert.ok(!entries.has("docker/notes.txt"));
    assert.ok(entries.has("app.js"));
  });

  it("keeps symlinks as symlinks", { skip: process.platform === "win32" }, async () => {
    const dir = await folder({ Dockerfile: "FROM alpine\n", "real/file.txt": "data" });
    await fs.symlink("real/file.txt", path.join(dir, "link.txt"));
    await fs.symlink("real", path.join(dir, "link-dir"));
    await fs.symlink("/does/not/exist", path.join(dir, "dangling"));
    const { entries } = await pack(dir);
    assert.deepEqual(entries.get("link.txt"), { type: "symlink", body: "", linkname: "real/file.txt", mode: entries.get("link.txt")?.mode });
    assert.equal(entries.get("link-dir")?.type, "symlink");
    assert.equal(entries.get("link-dir")?.linkname, "real");
    assert.ok(!entries.has("link-dir/file.txt"));
    assert.equal(entries.get("dangling")?.linkname, "/does/not/exist");
  });

  it("names a Dockerfile in a subfolder by its path inside the context", async () => {
    const dir = await folder({ "sub/Dockerfile": "FROM alpine\n", "sub/app.js": "1" });
    const { dockerfile, entries } = await pack(dir, "sub/Dockerfile");
    assert.equal(dockerfile, "sub/Dockerfile");
    assert.ok(entries.has("sub/Dockerfile"));
    assert.ok(!entries.has("Dockerfile"));
  });

  it("accepts the Dockerfile as an absolute path inside the folder", async () => {
    const dir = await folder({ "sub/build.Dockerfile": "FROM alpine\n" });
    const { dockerfile } = await pack(dir, path.join(dir, "sub", "build.Dockerfile"));
    assert.equal(dockerfile, "sub/build.Dockerfile");
  });

  it("refuses a Dockerfile outside the folder", async () => {
    const dir = await folder({ "ctx/app.js": "1", Dockerfile: "FROM alpine\n" });
    for (const dockerfile of ["../Dockerfile", path.join(dir, "Dockerfile")]) {
      await assert.rejects(packBuildContext(path.join(dir, "ctx"), dockerfile), (err: unknown) => {
        assert.ok(err instanceof HangarError);
        assert.match(err.message, /^The Dockerfile .*Dockerfile is outside the build context .*ctx\. Choose a context folder that contains it\.$/);
        assert.equal(err.hint, "Choose a context folder that contains it.");
        return true;
      });
    }
  });

  it("refuses a missing Dockerfile, naming where it looked", async () => {
    const dir = await folder({ "app.js": "1" });
    await assert.rejects(packBuildContext(dir, "Dockerfile"), (err: unknown) => {
      assert.ok(err instanceof HangarError);
      assert.ok(err.message.startsWith(`There is no Dockerfile at ${path.join(dir, "Dockerfile")}.`), err.message);
      assert.equal(err.hint, "Save it first, or pick another file.");
      return true;
    });
  });
});
