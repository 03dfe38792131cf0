import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file";

/**
 * The build cache: step key → the image that step produced. A key is a
 * sha256 over the parent image, the step as Docker records it, its config
 * and, for COPY/ADD, the checksum of what it copies. Kept in
 * `${hangarHome}/engine/build-cache.json`; an entry whose image is gone is a miss.
 */
export class BuildCache {
  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, string>,
  ) {}

  static async open(hangarHome: string): Promise<BuildCache> {
    const file = path.join(hangarHome, "engine", "build-cache.json");
    let entries: Record<string, string> = {};
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(file, "utf8"));
      if (parsed && typeof parsed === "object" && typeof (parsed as { steps?: unknown }).steps === "object") entries = (parsed as { steps: Record<string, string> }).steps;
    } catch {
      // missing or damaged: start empty (the cache only saves time)
    }
    return new BuildCache(file, entries);
  }

  static key(parts: unknown[]): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  get(key: string): string | undefined {
    return this.entries[key];
  }

  async set(key: string, imageId: string): Promise<void> {
    this.entries[key] = imageId;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ format: 1, steps: this.entries }));
  }
}
