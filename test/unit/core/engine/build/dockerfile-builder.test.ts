import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { createReadStream } from "node:fs";
import * as path from "node:path";
import * as tar from "tar-stream";
import { buildImage, BuildError, type BuildOptions } from "../../../../../src/core/engine/build/dockerfile-builder";
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { applyLayer } from "../../../../../src/core/engine/images/layer-apply";
import { makeTar, withTempDir } from "../images/tar-fixtures";
import { dockerHistory, dockerInspect } from "../images/docker-shapes";

interface Ctx {
  dir: string;
  context: string;
  store: ImageStore;
  lines: string[];
  build(o?: Partial<BuildOptions>): Promise<string>;
}

async function withContext(files: Record<string, string | Buffer>, fn: (c: Ctx) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const context = path.join(dir, "context");
    for (const [name, body] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(context, name)), { recursive: true });
      await writeFile(path.join(context, name), body);
    }
    const store = await ImageStore.open(path.join(dir, "images"));
    const lines: string[] = [];
    const c: Ctx = {
      dir,
      context,
      store,
      lines,
      build: async (o = {}) => (await buildImage({ contextDir: context, store, hangarHome: path.join(dir, "home"), onStream: (l) => lines.push(l), ...o })).imageId,
    };
    await fn(c);
  });
}

type Header = { name: string; mode: number; uid: number; gid: number; type: string; linkname?: string | null; body: string };

async function layerHeaders(store: ImageStore, ref: string, index = -1): Promise<Map<string, Header>> {
  const layers = await store.layerFiles(ref);
  const file = layers[index < 0 ? layers.length + index : index];
  const extract = tar.extract();
  createReadStream(file).pipe(extract as unknown as NodeJS.WritableStream);
  const out = new Map<string, Header>();
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
    const h = entry.header;
    out.set(h.name, { name: h.name, mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, type: h.type ?? "file", linkname: h.linkname, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

async function rootfs(store: ImageStore, ref: string, dir: string): Promise<string> {
  const root = path.join(dir, `rootfs-${Math.random().toString(16).slice(2)}`);
  for (const l of await store.layerFiles(ref)) await applyLayer(l, root);
  return root;
}

test("FROM scratch with COPY, WORKDIR-relative dests, ENV substitution; Docker's output lines and history", async () => {
  await withContext(
    {
      Dockerfile: 'FROM scratch\nENV APP=/srv/app NAME=web\nWORKDIR $APP\nCOPY hello.txt ./\nCOPY hello.txt ${NAME:-x}.txt\nCOPY sub /opt/${MISSING:-data}/\nCMD ["/app"]\n',
      "hello.txt": "hello\n",
      "sub/a.txt": "A",
      "sub/deep/b.txt": "B",
    },
    async (c) => {
      const id = await c.build({ tags: ["app"] });
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      assert.equal(c.lines[0], "Step 1/7 : FROM scratch");
      assert.ok(c.lines.includes("Step 4/7 : COPY hello.txt ./"));
      assert.equal(c.lines.at(-2), `Successfully built ${id.slice(7, 19)}`);
      assert.equal(c.lines.at(-1), "Successfully tagged app:latest");
      const inspect = await dockerInspect(c.store, "app");
      assert.equal(inspect.Id, id);
      assert.deepEqual(inspect.Config.Env, ["APP=/srv/app", "NAME=web"]);
      assert.equal(inspect.Config.WorkingDir, "/srv/app");
      assert.deepEqual(inspect.Config.Cmd, ["/app"]);
      const root = await rootfs(c.store, "app", c.dir);
      assert.equal(await readFile(path.join(root, "srv/app/hello.txt"), "utf8"), "hello\n");
      assert.equal(await readFile(path.join(root, "srv/app/web.txt"), "utf8"), "hello\n");
      assert.equal(await readFile(path.join(root, "opt/data/a.txt"), "utf8"), "A");
      assert.equal(await readFile(path.join(root, "opt/data/deep/b.txt"), "utf8"), "B");
      const history = (await dockerHistory(c.store, "app")).map((h) => h.CreatedBy).reverse();
      assert.equal(history[0], "/bin/sh -c #(nop)  ENV APP=/srv/app NAME=web");
      assert.equal(history[1], "/bin/sh -c #(nop) WORKDIR /srv/app");
      assert.match(history[2], /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\/ $/);
      assert.match(history[4], /^\/bin\/sh -c #\(nop\) COPY dir:[0-9a-f]{64} in \/opt\/data\/ $/);
      assert.equal(history[5], '/bin/sh -c #(nop)  CMD ["/app"]');
    },
  );
});

test("multi-stage: ARG before FROM, COPY --from by name and index, --target", async () => {
  await withContext(
    {
      Dockerfile:
        "ARG BASE=scratch\nARG VER=1\nFROM ${BASE} AS build\nARG VER\nCOPY src/ /out/\nENV V=$VER\nFROM scratch\nCOPY --from=build /out/main.js /app/\nCOPY --from=0 /out/lib.js /app/lib.js\n",
      "src/main.js": "main",
      "src/lib.js": "lib",
    },
    async (c) => {
      await c.build({ tags: ["multi"], buildArgs: { VER: "2" } });
      const root = await rootfs(c.store, "multi", c.dir);
      assert.equal(await readFile(path.join(root, "app/main.js"), "utf8"), "main");
      assert.equal(await readFile(path.join(root, "app/lib.js"), "utf8"), "lib");
      assert.equal(await stat(path.join(root, "out")).catch(() => undefined), undefined, "the first stage's files are not in the final image");
      assert.ok(!c.lines.some((l) => l.includes("[Warning]")));
      await c.build({ tags: ["first"], target: "build", buildArgs: { VER: "3", OTHER: "x" } });
      assert.deepEqual((await dockerInspect(c.store, "first")).Config.Env, ["V=3"]);
      assert.ok(c.lines.includes("[Warning] One or more build-args [OTHER] were not consumed"));
    },
  );
});

test(".dockerignore with ! exceptions and **, wildcards, --chown/--chmod in the layer headers", async () => {
  await withContext(
    {
      Dockerfile: "FROM scratch\nCOPY --chown=1000:50 --chmod=640 . /ctx/\nCOPY *.md /docs/\n",
      ".dockerignore": "# comment\n*.log\n!keep.log\n**/secret*\nnode_modules\n",
      "a.log": "x",
      "keep.log": "k",
      "app.js": "js",
      "lib/secret.key": "s",
      "lib/ok.js": "ok",
      "node_modules/m/index.js": "m",
      "README.md": "r",
      "NOTES.md": "n",
    },
    async (c) => {
      await c.build({ tags: ["ign"] });
      const first = await layerHeaders(c.store, "ign", 0);
      const names = [...first.keys()];
      assert.ok(names.includes("ctx/app.js") && names.includes("ctx/keep.log") && names.includes("ctx/lib/ok.js"), names.join(" "));
      for (const gone of ["ctx/a.log", "ctx/lib/secret.key", "ctx/node_modules/", "ctx/node_modules/m/index.js"]) assert.ok(!names.includes(gone), gone);
      const app = first.get("ctx/app.js");
      assert.deepEqual([app?.uid, app?.gid, app?.mode], [1000, 50, 0o640]);
      assert.deepEqual(names, [...names].sort(), "entries are sorted");
      const docs = await layerHeaders(c.store, "ign", 1);
      assert.deepEqual([...docs.keys()], ["docs/", "docs/NOTES.md", "docs/README.md"]);
      assert.equal(docs.get("docs/README.md")?.uid, 0);
    },
  );
});

test("ADD extracts a local .tar.gz; ADD of a URL is refused", async () => {
  const { gzipSync } = await import("node:zlib");
  const archive = gzipSync(
    await makeTar([
      { name: "pkg/", type: "directory" },
      { name: "pkg/run.sh", body: "#!/bin/sh\n", mode: 0o755 },
    ]),
  );
  await withContext({ Dockerfile: "FROM scratch\nADD bundle.tar.gz /opt/\nADD plain.txt /opt/plain.txt\n", "bundle.tar.gz": archive, "plain.txt": "p" }, async (c) => {
    await c.build({ tags: ["add"] });
    const root = await rootfs(c.store, "add", c.dir);
    assert.equal(await readFile(path.join(root, "opt/pkg/run.sh"), "utf8"), "#!/bin/sh\n");
    assert.equal((await stat(path.join(root, "opt/pkg/run.sh"))).mode & 0o777, 0o755);
    assert.equal(await readFile(path.join(root, "opt/plain.txt"), "utf8"), "p");
  });
  await withContext({ Dockerfile: "FROM scratch\nADD https://example.com/x.tgz /x\n" }, async (c) => {
    await assert.rejects(c.build(), (err: Error) => err instanceof BuildError && /^Dockerfile:2: ADD from a URL .* not supported yet/.test(err.message));
  });
});

test("metadata instructions fill the config: ENTRYPOINT/CMD, EXPOSE, LABEL, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, USER, MAINTAINER", async () => {
  const df = [
    "FROM scratch",
    "MAINTAINER someone <a@b.c>",
    'LABEL version="1.0" description="a \\"b\\" c"',
    "EXPOSE 80 53/udp 8000-8001",
    "VOLUME /data /logs",
    "STOPSIGNAL SIGTERM",
    "HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f http://localhost/ || exit 1",
    'SHELL ["/bin/bash", "-c"]',
    "USER 1000:1000",
    "CMD echo hi",
    'ENTRYPOINT ["/entry"]',
  ].join("\n");
  await withContext({ Dockerfile: df }, async (c) => {
    await c.build({ tags: ["meta"] });
    const i = await dockerInspect(c.store, "meta");
    assert.equal(i.Author, "someone <a@b.c>");
    assert.deepEqual(i.Config.Labels, { version: "1.0", description: 'a "b" c' });
    assert.deepEqual(Object.keys(i.Config.ExposedPorts ?? {}), ["80/tcp", "53/udp", "8000/tcp", "8001/tcp"]);
    assert.deepEqual(i.Config.Volumes, { "/data": {}, "/logs": {} });
    assert.equal(i.Config.StopSignal, "SIGTERM");
    assert.deepEqual(i.Config.Healthcheck, { Test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], Interval: 5e9, Timeout: 90e9, Retries: 3 });
    assert.deepEqual(i.Config.Shell, ["/bin/bash", "-c"]);
    assert.equal(i.Config.User, "1000:1000");
    assert.deepEqual(i.Config.Cmd, ["/bin/bash", "-c", "echo hi"], "CMD set in this stage survives ENTRYPOINT");
    assert.deepEqual(i.Config.Entrypoint, ["/entry"]);
  });
});

test("ENTRYPOINT resets the CMD inherited from the base; ONBUILD triggers run in a child build", async () => {
  await withContext({ Dockerfile: 'FROM scratch\nCMD ["base"]\nONBUILD COPY trigger.txt /t/\nONBUILD ENV FROM_TRIGGER=yes\n', "trigger.txt": "t" }, async (c) => {
    await c.build({ tags: ["parent"] });
    assert.deepEqual((await dockerInspect(c.store, "parent")).Config.OnBuild, ["COPY trigger.txt /t/", "ENV FROM_TRIGGER=yes"]);
    await writeFile(path.join(c.context, "Dockerfile.child"), 'FROM parent\nENTRYPOINT ["/e"]\nHEALTHCHECK NONE\n');
    await c.build({ tags: ["child"], dockerfile: "Dockerfile.child" });
    const child = await dockerInspect(c.store, "child");
    assert.equal(child.Config.Cmd, null);
    assert.deepEqual(child.Config.Entrypoint, ["/e"]);
    assert.deepEqual(child.Config.Healthcheck, { Test: ["NONE"] });
    assert.deepEqual(child.Config.Env, ["FROM_TRIGGER=yes"]);
    assert.ok(!child.Config.OnBuild || child.Config.OnBuild.length === 0);
    assert.ok(c.lines.includes("# Executing 2 build triggers"));
    const root = await rootfs(c.store, "child", c.dir);
    assert.equal(await readFile(path.join(root, "t/trigger.txt"), "utf8"), "t");
  });
});

test("the cache: a second build hits, a changed file misses, --no-cache ignores it", async () => {
  await withContext({ Dockerfile: 'FROM scratch\nENV A=1\nCOPY f.txt /f.txt\nCMD ["x"]\n', "f.txt": "one" }, async (c) => {
    const first = await c.build({ tags: ["cached"] });
    assert.ok(!c.lines.includes(" ---> Using cache"));
    c.lines.length = 0;
    assert.equal(await c.build({ tags: ["cached"] }), first);
    assert.equal(c.lines.filter((l) => l === " ---> Using cache").length, 3);
    c.lines.length = 0;
    await writeFile(path.join(c.context, "f.txt"), "two");
    const changed = await c.build({ tags: ["cached"] });
    assert.notEqual(changed, first);
    assert.equal(c.lines.filter((l) => l === " ---> Using cache").length, 1, "only ENV before the COPY");
    c.lines.length = 0;
    const fresh = await c.build({ noCache: true });
    assert.ok(!c.lines.includes(" ---> Using cache"));
    assert.notEqual(fresh, changed);
    assert.ok(JSON.parse(await readFile(path.join(c.dir, "home/engine/build-cache.json"), "utf8")).steps);
  });
});

test("a context symlink pointing outside is copied as a symlink, never followed", async () => {
  await withContext({ Dockerfile: "FROM scratch\nCOPY . /c/\nCOPY link /single\n" }, async (c) => {
    await writeFile(path.join(c.dir, "outside-secret"), "secret");
    await symlink(path.join(c.dir, "outside-secret"), path.join(c.context, "link"));
    await c.build({ tags: ["links"] });
    const h = await layerHeaders(c.store, "links", 0);
    assert.equal(h.get("c/link")?.type, "symlink");
    assert.equal(h.get("c/link")?.linkname, path.join(c.dir, "outside-secret"));
    const root = await rootfs(c.store, "links", c.dir);
    assert.ok((await lstat(path.join(root, "single"))).isSymbolicLink());
    assert.equal(await readlink(path.join(root, "single")), path.join(c.dir, "outside-secret"));
    for (const hd of h.values()) assert.ok(!hd.body.includes("secret"));
  });
});

test("errors name the Dockerfile line and leave no new tag", async () => {
  // More build errors, each with its Dockerfile, are golden cases: golden/error-*/.
  await withContext({ Dockerfile: "FROM scratch\nENV A=1\nFOO bar\n" }, async (c) => {
    await assert.rejects(c.build({ tags: ["bad"] }), (err: Error) => err instanceof BuildError && err.message.startsWith("Dockerfile:3: unknown instruction: FOO"));
    await assert.rejects(dockerInspect(c.store, "bad"));
  });
  await withContext({ Dockerfile: "FROM scratch\n\n# note\nCOPY app.js /app/\n" }, async (c) => {
    await assert.rejects(c.build({ tags: ["bad"] }), (err: Error) => err instanceof BuildError && err.message.startsWith("Dockerfile:4: COPY failed: file not found in build context: app.js"));
    await assert.rejects(dockerInspect(c.store, "bad"));
  });
});

test("RUN without the engine machine fails clearly, naming its line", async () => {
  await withContext({ Dockerfile: "FROM scratch\nCOPY f /f\nARG X=1\nENV E=2\nRUN echo $X\n", f: "f" }, async (c) => {
    await assert.rejects(c.build(), (err: Error) => err instanceof BuildError && /^Dockerfile:5: RUN needs the engine machine/.test(err.message));
  });
});

test("WORKDIR makes only the folders the image lacks: one a COPY --chown made keeps its owner (as Docker)", async () => {
  await withContext({ Dockerfile: "FROM scratch\nCOPY --chown=1000:1000 app/ /srv/app/\nWORKDIR /srv/app\nWORKDIR /srv/app/data\n", "app/main.js": "js" }, async (c) => {
    await c.build({ tags: ["wd"] });
    assert.deepEqual([...(await layerHeaders(c.store, "wd", 1)).keys()], [], "the existing /srv and /srv/app are left alone");
    const data = await layerHeaders(c.store, "wd", 2);
    assert.deepEqual([...data.keys()], ["srv/app/data/"]);
    assert.equal((await layerHeaders(c.store, "wd", 0)).get("srv/app/")?.uid, 1000, "so /srv/app's owner is the COPY's");
  });
});
