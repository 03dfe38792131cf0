/**
 * `.dockerignore` with Docker's rules (moby patternmatcher): one pattern a
 * line, `#` comments, paths cleaned and leading "/" dropped, `*` `?` `[…]`
 * within one path component, `**` across any number of them, `!` re-includes;
 * the last pattern that matches a path or one of its parent folders wins.
 */
export class DockerIgnore {
  private readonly patterns: Array<{ re: RegExp; exclusion: boolean }>;

  constructor(text: string) {
    this.patterns = [];
    for (let line of text.split(/\r?\n/)) {
      line = line.trim();
      if (line === "" || line.startsWith("#")) continue;
      const exclusion = line.startsWith("!");
      if (exclusion) line = line.slice(1).trim();
      line = cleanPattern(line);
      if (line === "") continue;
      this.patterns.push({ re: patternRegExp(line), exclusion });
    }
  }

  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** rel: a "/"-separated path relative to the context root. */
  excludes(rel: string): boolean {
    const parents: string[] = [];
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
    let excluded = false;
    for (const p of this.patterns) {
      if (p.exclusion !== excluded) continue; // cannot change the outcome
      if (p.re.test(rel) || parents.some((d) => p.re.test(d))) excluded = !p.exclusion;
    }
    return excluded;
  }
}

function cleanPattern(p: string): string {
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function patternRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, close);
        if (cls.startsWith("!") || cls.startsWith("^")) cls = "^" + cls.slice(1);
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else if (c === "\\" && i + 1 < pattern.length) re += escapeRe(pattern[++i]);
    else re += escapeRe(c);
  }
  return new RegExp(re + "$");
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Whether a COPY source names several paths (Docker's wildcard characters). */
export function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}

/** filepath.Match for one path component. */
export function componentMatches(pattern: string, name: string): boolean {
  return patternRegExp(pattern).test(name);
}
