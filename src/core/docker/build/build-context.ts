import { createReadStream, promises as fs } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import * as tar from "tar-stream";
import { DockerIgnore } from "../../engine/build/dockerignore";
import { HangarError } from "../../util/errors";

export interface BuildContext {
  /** The context folder as a tar stream, for POST /build. */
  tar: Readable;
  /** The Dockerfile's path inside the context ("/"-separated), for the `dockerfile` parameter. */
  dockerfile: string;
}

/**
 * Packs a build context as the docker CLI does: every file under `dir`
 * except what `.dockerignore` excludes, with the Dockerfile and the
 * .dockerignore itself always sent (the builder needs them). Symlinks stay
 * links. A Dockerfile outside the folder is refused: the API reads it from
 * the context.
 */
export async function packBuildContext(dir: string, dockerfile: string): Promise<BuildContext> {
  const root = path.resolve(dir);
  const rel = path.relative(root, path.resolve(root, dockerfile)).split(path.sep).join("/");
  if (rel.startsWith("../") || rel === ".." || path.isAbsolute(rel))
    throw new HangarError(`The Dockerfile ${dockerfile} is outside the build context ${root}.`, "Choose a context folder that contains it.");
  await fs.access(path.join(root, rel)).catch(() => {
    throw new HangarError(`There is no Dockerfile at ${path.join(root, rel)}.`, "Save it first, or pick another file.");
  });
  const ignore = new DockerIgnore(await fs.readFile(path.join(root, ".dockerignore"), "utf8").catch(() => ""));
  const keep = new Set([rel, ".dockerignore"]);
  const pack = tar.pack();
  void (async () => {
    try {
      await addFolder(
        pack,
        root,
        "",
        (p) => keep.has(p) || !ignore.excludes(p),
        (d) => ignore.hasExceptions || rel.startsWith(`${d}/`),
      );
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return { tar: pack as unknown as Readable, dockerfile: rel };
}

async function addFolder(pack: tar.Pack, root: string, rel: string, included: (rel: string) => boolean, descendIntoExcluded: (rel: string) => boolean): Promise<void> {
  const entries = (await fs.readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    const full = path.join(root, name);
    const take = included(name);
    const st = await fs.lstat(full);
    const header = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      // An excluded folder may hold a `!`-re-included file or the Dockerfile; only then is it worth walking.
      if (!take && !descendIntoExcluded(name)) continue;
      if (take) await entryDone(pack, { ...header, type: "directory" });
      await addFolder(pack, root, name, included, descendIntoExcluded);
    } else if (!take) {
      continue;
    } else if (st.isSymbolicLink()) {
      await entryDone(pack, { ...header, type: "symlink", linkname: await fs.readlink(full) });
    } else if (st.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...header, type: "file", size: st.size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(full).once("error", reject).pipe(sink);
      });
    }
    // Sockets, fifos and devices are not sent (docker skips them too).
  }
}

function entryDone(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}
