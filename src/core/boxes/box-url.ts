// `config.vm.box_url`: where `up` gets a box that is not installed, as
// Vagrant does: a .box file (or box folder) by path relative to the
// Vagrantfile, a file:// URL, or an http(s) URL of a .box file. Several URLs
// (an array) are tried in order. The box is added under the Vagrantfile's
// box name, version 0, as `vagrant box add URL --name NAME` would.
import { randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { HangarError } from "../util/errors";
import { addBox } from "./box-archive";

/** Where a box_url points on this computer, or the http(s) URL to download. */
export function boxUrlSource(url: string, projectDir: string): { file: string } | { http: string } {
  if (/^https?:\/\//i.test(url)) return { http: url };
  if (/^file:\/\//i.test(url)) return { file: fileURLToPath(url) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new HangarError(`config.vm.box_url ${url}: only http, https and file URLs (or a path) are supported.`);
  return { file: path.resolve(projectDir, url.replace(/^~(?=$|\/)/, process.env.HOME ?? "~")) };
}

/**
 * Adds box `name` from the first of `urls` that works; returns the installed folder.
 * Fails naming every URL tried when none did.
 */
export async function addBoxFromUrls(
  hangarHome: string,
  urls: string[],
  name: string,
  projectDir: string,
  progress: (message: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<string> {
  const failures: string[] = [];
  for (const url of urls) {
    const source = boxUrlSource(url, projectDir);
    try {
      if ("file" in source) {
        progress(`Adding box '${name}' from ${source.file}`);
        return await addBox(hangarHome, source.file, name, "0", false, signal);
      }
      progress(`Downloading box '${name}' from ${source.http}`);
      const tmp = path.join(hangarHome, "boxes", `.download-${randomBytes(6).toString("hex")}.box`);
      await fs.mkdir(path.dirname(tmp), { recursive: true });
      try {
        const res = await fetch(source.http, { signal });
        if (!res.ok || !res.body) throw new HangarError(`HTTP ${res.status} ${res.statusText}`);
        await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(tmp));
        return await addBox(hangarHome, tmp, name, "0", false, signal);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      failures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new HangarError(`The box '${name}' is not installed, and it could not be added from config.vm.box_url:\n${failures.join("\n")}`, "Fix box_url, or add the box with `hangar box add`.");
}
