// Which files are Compose files: the names `docker compose` and
// `docker-compose` look for by default, their override/variant forms, and
// whatever the user adds in `hangar.compose.filePatterns`.
import * as path from "node:path";

/** The default of `hangar.compose.filePatterns` (and the language's filenamePatterns in package.json). */
export const DEFAULT_COMPOSE_FILE_PATTERNS: readonly string[] = [
  "compose.yaml",
  "compose.yml",
  "compose.*.yaml",
  "compose.*.yml",
  "docker-compose.yaml",
  "docker-compose.yml",
  "docker-compose.*.yaml",
  "docker-compose.*.yml",
];

/**
 * A glob as VS Code's filenamePatterns write them: `*` and `?` within a name,
 * `**` across folders, `{a,b}` alternatives. A pattern without `/` matches the
 * file's name; one with `/` matches the end of its path.
 */
export function globToRegExp(glob: string): RegExp {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      // `**/` is any number of folders (none included); a bare `**` anything.
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "{") {
      const end = glob.indexOf("}", i);
      if (end < 0) out += "\\{";
      else {
        out += `(?:${glob
          .slice(i + 1, end)
          .split(",")
          .map((alt) => globToRegExp(alt).source.slice(1, -1))
          .join("|")})`;
        i = end;
      }
    } else out += ch.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, process.platform === "win32" || process.platform === "darwin" ? "i" : "");
}

/** A predicate on file paths for these patterns (empty or blank patterns are ignored). */
export function composeFileMatcher(patterns: readonly string[]): (filePath: string) => boolean {
  const compiled = patterns
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => ({ withFolders: p.includes("/"), re: globToRegExp(p.replace(/^\.\//, "")) }));
  return (filePath) => {
    const posix = filePath.replace(/\\/g, "/");
    const name = path.posix.basename(posix);
    return compiled.some(({ withFolders, re }) => {
      if (!withFolders) return re.test(name);
      // Any tail of the path made of whole segments.
      const parts = posix.split("/");
      for (let i = parts.length - 1; i >= 0; i--) if (re.test(parts.slice(i).join("/"))) return true;
      return false;
    });
  };
}
