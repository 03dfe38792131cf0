import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { compareVersions, isVersion } from "./box-version";

/**
 * The box store: `<home>/boxes/<name>/<version>/<provider>/metadata.json`,
 * Vagrant's layout. A `/` in a box name is stored as `-VAGRANTSLASH-`, as
 * Vagrant does, so `hangar/debian-busybox` is one folder.
 */
export interface BoxEntry {
  name: string;
  version: string;
  provider: string;
  /** Folder holding the box's files. */
  path: string;
  /** Set when the box folder is unusable; says why. Such a box is listed so the user can remove it. */
  problem?: string;
}

const SLASH = "-VAGRANTSLASH-";

export function boxNameToDir(name: string): string {
  return name.split("/").join(SLASH);
}

export function boxDirToName(dir: string): string {
  return dir.split(SLASH).join("/");
}

export class BoxStore {
  readonly root: string;

  constructor(hangarHome: string) {
    this.root = path.join(hangarHome, "boxes");
  }

  /** Every box version and provider in the store, sorted by name, then version (newest first). */
  async list(): Promise<BoxEntry[]> {
    const boxes: BoxEntry[] = [];
    for (const nameDir of await subdirs(this.root)) {
      for (const version of await subdirs(path.join(this.root, nameDir))) {
        for (const provider of await subdirs(path.join(this.root, nameDir, version))) {
          const dir = path.join(this.root, nameDir, version, provider);
          const entry: BoxEntry = { name: boxDirToName(nameDir), version, provider, path: dir };
          const problem = await checkMetadata(dir);
          if (problem) entry.problem = problem;
          boxes.push(entry);
        }
      }
    }
    return boxes.sort((a, b) => a.name.localeCompare(b.name) || compareVersionsDesc(a.version, b.version) || a.provider.localeCompare(b.provider));
  }
}

/** Removes one box version/provider (all versions/providers when not given); returns what was removed. */
export async function removeBox(store: BoxStore, name: string, version?: string, provider?: string): Promise<BoxEntry[]> {
  const matches = (await store.list()).filter((b) => b.name === name && (!version || b.version === version) && (!provider || b.provider === provider));
  for (const b of matches) {
    await fs.rm(b.path, { recursive: true, force: true });
    // Drop emptied version and name folders too.
    for (const dir of [path.dirname(b.path), path.dirname(path.dirname(b.path))]) await fs.rmdir(dir).catch(() => undefined);
  }
  return matches;
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

async function checkMetadata(dir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, "metadata.json"), "utf8");
  } catch {
    return "metadata.json is missing; remove this box and add it again.";
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "metadata.json is not a JSON object; remove this box and add it again.";
  } catch {
    return "metadata.json is not valid JSON; remove this box and add it again.";
  }
  return undefined;
}

/** Newest first, as RubyGems orders versions ("1.10" > "1.9"); what is not a version falls back to text order. */
export function compareVersionsDesc(a: string, b: string): number {
  return isVersion(a) && isVersion(b) ? compareVersions(b, a) : b.localeCompare(a);
}

/**
 * Adds an embedded box version to the store whole or not at all: `fill`
 * writes its files into a temporary folder beside the boxes, which then
 * replaces the version's folder (a damaged copy there included) in one
 * rename; a half-made box is never visible. Returns the box's folder.
 */
export async function publishBox(hangarHome: string, name: string, version: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const boxesRoot = path.join(hangarHome, "boxes");
  const finalDir = path.join(boxesRoot, boxNameToDir(name), version, "embedded");
  const tmp = path.join(boxesRoot, `.tmp-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.mkdir(path.dirname(finalDir), { recursive: true });
    await fs.rename(tmp, finalDir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return finalDir;
}
