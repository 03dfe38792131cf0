/** Never copied into a guest: Hangar's and Vagrant's own state. */
export const ALWAYS_EXCLUDED = [".hangar/", ".vagrant/"];

/**
 * rsync-style patterns, as `rsync__exclude` and `hangar.sync.exclude` use
 * them: "dir/" matches directories only, a leading "/" anchors at the root, a
 * pattern with a "/" matches the whole relative path, others match any path
 * component's name; `*` and `?` glob within a name. A path below an excluded
 * directory is excluded too.
 */
export function compileExcludes(patterns: string[]): (rel: string, isDir: boolean) => boolean {
  const rules = patterns.map((p) => {
    const dirOnly = p.endsWith("/");
    const anchored = p.startsWith("/");
    const body = p.replace(/^\//, "").replace(/\/$/, "");
    const re = new RegExp(
      `^${body
        .split("*")
        .map((s) => s.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\?/g, "[^/]"))
        .join("[^/]*")}$`,
    );
    return { dirOnly, anchored, re, hasSlash: body.includes("/") };
  });
  const matches = (rel: string, isDir: boolean): boolean =>
    rules.some((r) => {
      if (r.dirOnly && !isDir) return false;
      if (r.anchored || r.hasSlash) return r.re.test(rel);
      return r.re.test(rel.split("/").pop()!);
    });
  return (rel, isDir) => {
    if (matches(rel, isDir)) return true;
    // Inside an excluded directory (chokidar reports files deep in a tree it was told to ignore the root of only via this check).
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) if (matches(parts.slice(0, i).join("/"), true)) return true;
    return false;
  };
}
