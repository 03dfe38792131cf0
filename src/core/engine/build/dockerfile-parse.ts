import { DockerfileParser } from "dockerfile-ast";

/**
 * A Dockerfile split into instructions (dockerfile-ast does the lexing:
 * parser directives, the escape character, line continuations), and the
 * word rules Docker applies to their arguments: flags, the JSON (exec) form,
 * quotes and variable substitution.
 */

export interface DockerfileInstruction {
  /** Upper case: FROM, RUN, … */
  keyword: string;
  /** 1-based line of the instruction's first line, for error messages. */
  line: number;
  /** Arguments with continuations joined and comment lines inside them dropped; flags still included. */
  args: string;
}

export interface ParsedDockerfile {
  escape: string;
  instructions: DockerfileInstruction[];
}

export function parseDockerfile(text: string, firstLine = 1): ParsedDockerfile {
  const df = DockerfileParser.parse(text);
  const escape = df.getEscapeCharacter();
  const instructions = df.getInstructions().map((i) => ({
    keyword: i.getKeyword().toUpperCase(),
    line: i.getRange().start.line + firstLine,
    // getRawArgumentsContent drops the flags of COPY, HEALTHCHECK…: take the whole text after the keyword.
    args: joinContinuations(i.getTextContent().replace(/^\s*\S+[ \t]*/, ""), escape),
  }));
  return { escape, instructions };
}

/** Docker drops comment and blank lines inside a continued instruction and removes escape+newline. */
function joinContinuations(raw: string, escape: string): string {
  const lines = raw.split(/\r?\n/);
  let out = "";
  lines.forEach((line, i) => {
    if (i > 0 && (/^\s*#/.test(line) || line.trim() === "")) return;
    const trimmed = line.replace(/[ \t]+$/, "");
    out += trimmed.endsWith(escape) ? trimmed.slice(0, -escape.length) : line;
  });
  return out.trim();
}

/** Leading `--name=value` / `--name` flags, and the rest. */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args.trimStart();
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("[^"]*"|'[^']*'|\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    let value = m[2] ?? "true";
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    flags.set(m[1].toLowerCase(), value);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** The exec form: a JSON array of strings; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const t = args.trim();
  if (!t.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  } catch {
    // not JSON: Docker then runs the text in the shell form
  }
  return undefined;
}

export type Lookup = (name: string) => string | undefined;

/**
 * Docker's shell-word processing (moby's shell.Lex): splits on unquoted
 * blanks (unless `split` is false), removes quotes and escapes, and
 * substitutes $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt},
 * ${VAR+alt} — not inside single quotes.
 */
export function shellWords(text: string, lookup: Lookup, escape = "\\", split = true): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = text.length;
  const variable = (): string => {
    // text[i] === "$"
    const next = text[i + 1];
    if (next === "{") {
      const close = matchBrace(text, i + 1);
      if (close < 0) throw new SyntaxError(`missing '}' in "${text}"`);
      const body = text.slice(i + 2, close);
      i = close + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(body);
      if (!m) throw new SyntaxError(`bad substitution "\${${body}}"`);
      const value = lookup(m[1]);
      if (!m[2]) return value ?? "";
      const word2 = () => shellWords(m[3], lookup, escape, false)[0] ?? "";
      const colon = m[2].startsWith(":");
      const set = colon ? value !== undefined && value !== "" : value !== undefined;
      if (m[2].endsWith("-")) return set ? (value as string) : word2();
      return set ? word2() : "";
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (!m) {
      i++;
      return "$";
    }
    i += 1 + m[0].length;
    return lookup(m[0]) ?? "";
  };
  while (i < n) {
    const c = text[i];
    if (split && (c === " " || c === "\t" || c === "\n")) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === escape) {
      if (i + 1 < n) word += text[i + 1];
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new SyntaxError(`unexpected end of text in "${text}" (a ' is not closed)`);
      word += text.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new SyntaxError(`unexpected end of text in "${text}" (a " is not closed)`);
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === escape && i + 1 < n && (text[i + 1] === '"' || text[i + 1] === "$" || text[i + 1] === escape)) {
          word += text[i + 1];
          i += 2;
        } else if (d === "$") word += variable();
        else {
          word += d;
          i++;
        }
      }
    } else if (c === "$") word += variable();
    else {
      word += c;
      i++;
    }
  }
  if (inWord || !split) words.push(word);
  return words;
}

function matchBrace(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return j;
  }
  return -1;
}

/** One string with substitution and quote removal, not split (WORKDIR, USER, the value of `ENV a b`). */
export function shellWord(text: string, lookup: Lookup, escape = "\\"): string {
  return shellWords(text, lookup, escape, false)[0] ?? "";
}

/** Splits on unquoted blanks keeping quotes (Docker's parseNameVal): each piece is then a shellWord. */
export function rawWords(text: string, escape = "\\"): string[] {
  const out: string[] = [];
  let word = "";
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quote && /\s/.test(c)) {
      if (word) out.push(word);
      word = "";
      continue;
    }
    if (c === escape && i + 1 < text.length) {
      word += c + text[++i];
      continue;
    }
    if (quote ? c === quote : c === '"' || c === "'") quote = quote ? "" : c;
    word += c;
  }
  if (word) out.push(word);
  return out;
}

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "2h"). */
export function parseGoDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += parseFloat(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  return at === text.length && text.length > 0 ? Math.round(total) : undefined;
}
