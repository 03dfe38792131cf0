// Hostile build contexts against the host-side builder: symlink cycles and
// long chains, symlinks that point out of the context (absolute or ".."),
// whiteout names, and a stage whose /etc/passwd is a symlink. A sentinel
// file outside the context stands in for the user's home: its bytes must
// never reach a layer, and it must never change or go away.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import * as tar from "tar-stream";
import { buildImage, BuildError } from "../../../../../src/core/engine/build/dockerfile-builder";
import { ImageStore } from "../../../../../src/core/engine/images/image-store";
import { withTempDir } from "../images/tar-fixtures";

const SECRET = "sentinel: the host's private bytes";

interface Sandbox {
  context: string;
  home: string;
  store: ImageStore;
  build(dockerfile: string): Promise<string>;
  /** Every file body in every layer of every image in the store. */
  allLayerBodies(): Promise<string[]>;
}

/** <tmp>/context (the build context), <tmp>/home/secret (the sentinel), checked untouched after `fn`. */
async function sandbox(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const context = path.join(dir, "context");
    const home = path.join(dir, "home");
    await mkdir(context);
    await mkdir(home);
    await writeFile(path.join(home, "secret"), SECRET);
    const store = await ImageStore.open(path.join(dir, "images"));
    const s: Sandbox = {
      context,
      home,
      store,
      build: async (dockerfile) => {
        await writeFile(path.join(context, "Dockerfile"), dockerfile);
        return (await buildImage({ contextDir: context, store, hangarHome: path.join(dir, "hangar-home"), onStream: () => undefined })).imageId;
      },
      allLayerBodies: async () => {
        const bodies: string[] = [];
        const blobs = path.join(dir, "images", "blobs", "sha256");
        for (const name of await readdir(blobs).catch(() => [] as string[])) {
          const file = path.join(blobs, name);
          const extract = tar.extract();
          createReadStream(file).pipe(extract as unknown as NodeJS.WritableStream);
          try {
            for await (const entry of extract) {
              const chunks: Buffer[] = [];
              for await (const c of entry as unknown as AsyncIterable<Buffer>) chunks.push(c);
              bodies.push(Buffer.concat(chunks).toString());
            }
          } catch {
            // a config blob, not a tar
          }
        }
        return bodies;
      },
    };
    await fn(s);
    assert.deepEqual(await readdir(home), ["secret"], "nothing appeared in the stand-in home");
    assert.equal(await readFile(path.join(home, "secret"), "utf8"), SECRET, "the sentinel is unchanged");
    assert.ok(!(await s.allLayerBodies()).some((b) => b.includes(SECRET)), "the sentinel's bytes are in no layer");
  });
}

async function refused(s: Sandbox, dockerfile: string, message: RegExp): Promise<void> {
  await assert.rejects(s.build(dockerfile), (err: unknown) => {
    assert.ok(err instanceof BuildError, `a BuildError, not ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

test("a cycle of three symlinks: COPY esc/<file> fails with ELOOP's message naming the path, never resolved by the host", async () => {
  await sandbox(async (s) => {
    // esc -> a -> b -> c -> a: the resolver's budget runs out inside the cycle.
    await symlink("b", path.join(s.context, "a"));
    await symlink("c", path.join(s.context, "b"));
    await symlink("a", path.join(s.context, "c"));
    await symlink("a", path.join(s.context, "esc"));
    // Were "esc" ever handed to the host, the host would fail too; make the host's answer the home instead.
    await refused(s, "FROM scratch\nCOPY esc/secret /loot\n", /Dockerfile:2: COPY failed: esc\/secret: too many levels of symbolic links/);
  });
});

test("a cycle that loops inside the context but leads to the home on the host: refused, the host never finishes the path", async () => {
  await sandbox(async (s) => {
    // esc -> <home>; each folder of <home>'s path but the last -> "." ; the last -> esc. Confined, the three (or more) loop;
    // for the host, esc is the home: a resolver that gave up and kept "esc" as a plain folder would copy the secret.
    const parts = s.home.split("/").filter(Boolean);
    await symlink(s.home, path.join(s.context, "esc"));
    for (const p of parts.slice(0, -1)) await symlink(".", path.join(s.context, p)).catch(() => undefined);
    await symlink("esc", path.join(s.context, parts[parts.length - 1]));
    await refused(s, "FROM scratch\nCOPY esc/secret /loot\n", /COPY failed: esc\/secret: too many levels of symbolic links/);
    await refused(s, "FROM scratch\nCOPY esc/* /loot/\n", /too many levels of symbolic links/);
  });
});

test("a cycle of two symlinks, and a symlink to itself, fail the same way", async () => {
  await sandbox(async (s) => {
    await symlink("y", path.join(s.context, "x"));
    await symlink("x", path.join(s.context, "y"));
    await symlink("self", path.join(s.context, "self"));
    await refused(s, "FROM scratch\nCOPY x/secret /loot\n", /COPY failed: x\/secret: too many levels of symbolic links/);
    await refused(s, "FROM scratch\nCOPY self/x /loot/\n", /COPY failed: self\/x: too many levels of symbolic links/);
    await refused(s, "FROM scratch\nCOPY x/* /loot/\n", /too many levels of symbolic links/);
  });
});

test("a chain of 40 symlinks resolves inside the context; 41 is too many (Linux's limit)", async () => {
  await sandbox(async (s) => {
    await mkdir(path.join(s.context, "real"));
    await writeFile(path.join(s.context, "real", "secret"), "inside");
    // l0 -> l1 -> … -> l39 -> real: 40 hops. m0 -> … -> m40 -> real: 41.
    for (let i = 0; i < 40; i++) await symlink(i === 39 ? "real" : `l${i + 1}`, path.join(s.context, `l${i}`));
    for (let i = 0; i < 41; i++) await symlink(i === 40 ? "real" : `m${i + 1}`, path.join(s.context, `m${i}`));
    const id = await s.build("FROM scratch\nCOPY l0/secret /ok\n");
    assert.ok(id.startsWith("sha256:"));
    assert.ok((await s.allLayerBodies()).includes("inside"));
    await refused(s, "FROM scratch\nCOPY m0/secret /loot\n", /m0\/secret: too many levels of symbolic links/);
  });
});

test("symlinks to an absolute path or up with '..' resolve inside the context, never on the host", async () => {
  await sandbox(async (s) => {
    // Point straight at the stand-in home, absolutely and relatively: inside the context those paths do not exist.
    await symlink(s.home, path.join(s.context, "abs"));
    await symlink(path.relative(s.context, s.home), path.join(s.context, "up"));
    await symlink("../../../../../../../../..", path.join(s.context, "root"));
    await refused(s, "FROM scratch\nCOPY abs/secret /loot\n", /file not found in build context: abs\/secret/);
    await refused(s, "FROM scratch\nCOPY up/secret /loot\n", /file not found in build context: up\/secret/);
    await refused(s, `FROM scratch\nCOPY root${s.home}/secret /loot\n`, /file not found in build context/);
    await refused(s, "FROM scratch\nCOPY up/* /loot/\n", /file not found/);
    // The same paths made inside the context are what they reach.
    await mkdir(path.join(s.context, s.home), { recursive: true });
    await writeFile(path.join(s.context, s.home, "secret"), "context's own");
    await s.build("FROM scratch\nCOPY abs/secret /ok\n");
    assert.ok((await s.allLayerBodies()).includes("context's own"));
  });
});

test("the Dockerfile and .dockerignore are read inside the context: symlinks to host files are not followed out", async () => {
  await sandbox(async (s) => {
    await symlink(path.join(s.home, "secret"), path.join(s.context, "Dockerfile.evil"));
    await symlink(path.join(s.home, "secret"), path.join(s.context, ".dockerignore"));
    await assert.rejects(
      buildImage({ contextDir: s.context, dockerfile: "Dockerfile.evil", store: s.store, hangarHome: path.join(s.context, "..", "hh"), onStream: () => undefined }),
      (err: unknown) => {
        assert.ok(err instanceof BuildError);
        assert.match(err.message, /Cannot read Dockerfile\.evil in the build context/);
        assert.ok(!err.message.includes("sentinel"), "no byte of the host file in the message");
        return true;
      },
    );
  });
});

test("COPY --from: a stage's symlink cycle fails; a stage's absolute symlink and its /etc/passwd symlink stay in the stage", async () => {
  await sandbox(async (s) => {
    await mkdir(path.join(s.context, "etc"));
    await writeFile(path.join(s.context, "etc", "group"), "root:x:0:\n");
    await writeFile(path.join(s.context, "hello"), "hello");
    // The first stage's files: a cycle, a link to the home, and /etc/passwd linking to the home's secret.
    await symlink("q", path.join(s.context, "p"));
    await symlink("r", path.join(s.context, "q"));
    await symlink("p", path.join(s.context, "r"));
    await symlink(s.home, path.join(s.context, "home"));
    await symlink(path.join(s.home, "secret"), path.join(s.context, "passwd"));
    const stage = "FROM scratch AS one\nCOPY p q r home /\nCOPY passwd /etc/\nCOPY hello /\n";
    await refused(s, `${stage}FROM scratch\nCOPY --from=one p/secret /loot\n`, /COPY failed: p\/secret: too many levels of symbolic links/);
    await refused(s, `${stage}FROM scratch\nCOPY --from=one home/secret /loot\n`, /file not found in stage one: home\/secret/);
    // --chown by name reads the stage's /etc/passwd: a symlink to the host's file is followed inside the stage only.
    await refused(s, `${stage}COPY --chown=sentinel hello /x\n`, /no user "sentinel" in the stage's \/etc\/passwd/);
  });
});

test("a context file named .wh.., .wh... or .wh. is refused by COPY with a clear error, and nothing is deleted", async () => {
  for (const name of [".wh.", ".wh..", ".wh..."]) {
    await sandbox(async (s) => {
      await mkdir(path.join(s.context, "sub"));
      await writeFile(path.join(s.context, "sub", name), "");
      await writeFile(path.join(s.context, "sub", "keep"), "keep");
      await refused(s, "FROM scratch\nCOPY sub /dir/\n", new RegExp(`COPY failed: "dir/${name.replace(/\./g, "\\.")}" cannot be put in a layer: .*whiteout`));
      await refused(s, `FROM scratch\nCOPY sub/${name} /x/\n`, /cannot be put in a layer/);
      assert.deepEqual((await readdir(path.join(s.context, "sub"))).sort(), [name, "keep"].sort());
    });
  }
});

test("ADD of a local tar holding a .wh... member is refused", async () => {
  await sandbox(async (s) => {
    const pack = tar.pack();
    pack.entry({ name: "d/.wh...", size: 0 }, Buffer.alloc(0));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
    await writeFile(path.join(s.context, "x.tar"), Buffer.concat(chunks));
    await refused(s, "FROM scratch\nADD x.tar /t/\n", /cannot be put in a layer/);
  });
});
