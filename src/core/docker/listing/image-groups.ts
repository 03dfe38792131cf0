import type { ImageInfo } from "dockerode";

/** One tag of an image (or the image itself when it has no tag). */
export interface ImageTag {
  /** "repo:tag", or the short ID for an untagged image. */
  ref: string;
  tag: string;
  image: ImageInfo;
  /** Containers using it, when the API counted them (-1 otherwise). */
  containers: number;
}

/** What the API takes for this tag's image: "repo:tag", or the full ID for an untagged image (its short ID is only a label). */
export function apiRef(tag: ImageTag): string {
  return tag.ref === shortId(tag.image.Id) ? tag.image.Id : tag.ref;
}

/** Images grouped by repository, as the Images view shows them. */
export interface RepositoryGroup {
  repository: string;
  tags: ImageTag[];
}

export const UNTAGGED = "<none>";

/**
 * Groups GET /images/json by repository (sorted by name; untagged images
 * last, under "<none>"), tags within a group newest first. An image with
 * several tags appears under each of them, as `docker images` lists it.
 */
export function groupImages(images: ImageInfo[]): RepositoryGroup[] {
  const groups = new Map<string, ImageTag[]>();
  const add = (repository: string, tag: ImageTag): void => {
    const list = groups.get(repository) ?? [];
    list.push(tag);
    groups.set(repository, list);
  };
  for (const image of images) {
    const tags = (image.RepoTags ?? []).filter((t) => t && t !== "<none>:<none>");
    const containers = typeof image.Containers === "number" ? image.Containers : -1;
    if (!tags.length) {
      add(UNTAGGED, { ref: shortId(image.Id), tag: shortId(image.Id), image, containers });
      continue;
    }
    for (const ref of tags) {
      const colon = ref.lastIndexOf(":");
      const slash = ref.lastIndexOf("/");
      const [repository, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, "latest"];
      add(repository, { ref, tag, image, containers });
    }
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === UNTAGGED ? 1 : b === UNTAGGED ? -1 : a.localeCompare(b)))
    .map(([repository, tags]) => ({ repository, tags: tags.sort((a, b) => b.image.Created - a.image.Created || a.tag.localeCompare(b.tag)) }));
}

/** The 12-hex ID docker prints, from "sha256:…" or a bare ID. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** "1.2 MB", "340 kB": decimal units, as the docker CLI prints sizes. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "?";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)} ${units[u]}`;
}

/** "3 minutes ago", from a Unix time in seconds (the API's Created). */
export function formatAge(createdSeconds: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round(nowMs / 1000 - createdSeconds));
  const steps: Array<[number, string]> = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [7, "day"],
    [4.35, "week"],
    [12, "month"],
    [Infinity, "year"],
  ];
  let n = s;
  for (const [size, unit] of steps) {
    if (n < size) {
      const r = Math.floor(n);
      return unit === "second" && r < 2 ? "just now" : `${r} ${unit}${r === 1 ? "" : "s"} ago`;
    }
    n /= size;
  }
  return "long ago";
}
