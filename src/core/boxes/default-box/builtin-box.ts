import { existsSync, promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";
import { HangarError } from "../../util/errors";
import { generateEd25519KeyPair } from "../../util/ssh-keys";
import { BoxStore, publishBox } from "../box-store";
import { buildDebianBox, DEBIAN_BOX_NAME } from "../debian-box/debian-box-builder";
import { buildDefaultBox, DEFAULT_BOX_NAME, type BuildOptions, type BuiltBox } from "./default-box-builder";

/**
 * Built-in boxes are made by Hangar, not downloaded: `up` of a Vagrantfile
 * naming one that is not installed installs it first, as Vagrant adds a
 * missing box. A packaged Hangar (the .vsix) carries the default box ready
 * made in dist/box (scripts/package.mjs puts it there), so that needs no
 * network; without it (a checkout), the box is built from Debian packages.
 */

/** The file beside a shipped box's files that names it. */
const SHIPPED_MANIFEST = "box.json";

/** Hangar's own boxes and their builders: the small busybox default, and Debian bookworm with apt on a disk. */
const BUILDERS: Record<string, (o: BuildOptions) => Promise<BuiltBox>> = {
  [DEFAULT_BOX_NAME]: buildDefaultBox,
  [DEBIAN_BOX_NAME]: buildDebianBox,
};

export const BUILTIN_BOX_NAMES = Object.keys(BUILDERS);

export function isBuiltinBox(name: string): boolean {
  return Object.hasOwn(BUILDERS, name);
}

/** Builds the built-in box `name` from Debian packages. */
export function buildBuiltinBox(name: string, o: BuildOptions): Promise<BuiltBox> {
  if (!isBuiltinBox(name)) throw new HangarError(`${name} is not a built-in box; built-in boxes are ${BUILTIN_BOX_NAMES.join(" and ")}.`, "Add other boxes with `hangar box add NAME URL`.");
  return BUILDERS[name](o);
}

/** The default box a packaged Hangar ships, beside its bundles; undefined in a checkout (or a package built without it). */
export async function shippedDefaultBox(bundleDir: string = __dirname): Promise<{ dir: string; name: string; version: string } | undefined> {
  const dir = path.join(bundleDir, "box");
  if (!existsSync(path.join(dir, SHIPPED_MANIFEST))) return undefined;
  const manifest = JSON.parse(await fs.readFile(path.join(dir, SHIPPED_MANIFEST), "utf8")) as { name?: unknown; version?: unknown };
  if (manifest.name !== DEFAULT_BOX_NAME || typeof manifest.version !== "string" || !/^[\w.+-]+$/.test(manifest.version)) {
    throw new HangarError(`${path.join(dir, SHIPPED_MANIFEST)} does not describe ${DEFAULT_BOX_NAME}.`, "Reinstall Hangar, or build the box with `hangar box build`.");
  }
  return { dir, name: manifest.name, version: manifest.version };
}

/**
 * Installs the built-in box `name` into the home's store when no version of
 * it is there: the shipped copy, else a build from Debian packages (with
 * progress). Returns what it did, or undefined when it was installed already.
 */
export async function ensureBuiltinBox(name: string, o: BuildOptions & { bundleDir?: string }): Promise<{ how: "shipped" | "built"; version: string } | undefined> {
  if (!isBuiltinBox(name)) throw new HangarError(`${name} is not a built-in box.`);
  const store = new BoxStore(o.hangarHome);
  // Any version there, even a damaged one, is left to the caller: a damaged box is reported, not replaced unasked.
  if ((await store.list()).some((b) => b.name === name && b.provider === "embedded")) return undefined;
  const progress = o.onProgress ?? (() => undefined);
  const shipped = name === DEFAULT_BOX_NAME ? await shippedDefaultBox(o.bundleDir) : undefined;
  if (!shipped) {
    progress(0, `${name} is not installed: building it from Debian packages`);
    return { how: "built", version: (await buildBuiltinBox(name, o)).version };
  }
  progress(0, `${name} is not installed: adding the copy Hangar ships (${shipped.version})`);
  o.signal?.throwIfAborted();
  await publishBox(o.hangarHome, name, shipped.version, async (tmp) => {
    for (const file of await fs.readdir(shipped.dir)) {
      if (file === SHIPPED_MANIFEST || file === "bootstrap_key") continue;
      await fs.copyFile(path.join(shipped.dir, file), path.join(tmp, file));
    }
    // A bootstrap key of this computer's own: the package carries none (a private key is not published), and the
    // guest takes the public half from the kernel command line, so only metadata.json changes.
    const pair = generateEd25519KeyPair("hangar box bootstrap key");
    const metadataFile = path.join(tmp, "metadata.json");
    const metadata = JSON.parse(await fs.readFile(metadataFile, "utf8")) as { cmdline?: string; bootstrapKey?: string };
    const key = `hangar.key=${Buffer.from(pair.public).toString("base64")}`;
    metadata.cmdline = /\bhangar\.key=\S+/.test(metadata.cmdline ?? "") ? metadata.cmdline!.replace(/\bhangar\.key=\S+/, key) : `${metadata.cmdline ?? ""} ${key}`.trim();
    metadata.bootstrapKey = "bootstrap_key";
    await writeFileAtomic(path.join(tmp, "bootstrap_key"), pair.private, { mode: 0o600 });
    await writeFileAtomic(metadataFile, JSON.stringify(metadata, null, 2) + "\n");
  });
  progress(1, `Added ${name} ${shipped.version}`);
  return { how: "shipped", version: shipped.version };
}
