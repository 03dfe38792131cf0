/**
 * A small lexical scan of Ruby source: enough to tell code from comments,
 * string literals and heredoc bodies, so the language services can run plain
 * regular expressions over "code only" text. Not a Ruby parser: it knows
 * quotes with escapes and `#{…}` interpolation, `%w[…]`-style literals,
 * heredocs (`<<ID`, `<<-ID`, `<<~ID`, quoted ids), `#` comments and
 * `=begin`/`=end`. Regexp literals are not recognised (rare in Vagrantfiles).
 * No library does this for editor-side Ruby in Node without a Ruby parser
 * build, and Ruby itself runs only in the evaluator process, on save.
 */

export type ScanMode = "code" | "comment" | "string" | "heredoc";

export interface RubyScan {
  /** `text[0, end)` with comments and heredoc bodies blanked to spaces (newlines kept): offsets are unchanged. */
  code: string;
  /** `code` with the contents of string literals blanked too (the delimiters stay). */
  masked: string;
  /** What `end` falls in. */
  mode: ScanMode;
  /** When `mode` is "string": the offset of the opening delimiter (the quote, or the `%` of `%w[`); else -1. */
  stringStart: number;
  /** When `mode` is "string": the opening delimiter (`"`, `'`, `` ` `` or `%`); else "". */
  stringQuote: string;
}

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}", "<": ">" };

/** Scans `text` from its start up to `end` (default: all of it). */
export function scanRuby(text: string, end: number = text.length): RubyScan {
  end = Math.max(0, Math.min(end, text.length));
  const code = text.slice(0, end).split("");
  const masked = code.slice();
  const blank = (chars: string[], a: number, b: number): void => {
    for (let k = a; k < Math.min(b, end); k++) if (chars[k] !== "\n") chars[k] = " ";
  };
  const done = (mode: ScanMode, stringStart = -1, stringQuote = ""): RubyScan => ({ code: code.join(""), masked: masked.join(""), mode, stringStart, stringQuote });

  const heredocs: { id: string; indented: boolean }[] = [];
  let i = 0;
  while (i < end) {
    const c = text[i];
    const atLineStart = i === 0 || text[i - 1] === "\n";
    if (c === "\n") {
      i++;
      // Heredoc bodies start on the line after their `<<ID`, one after the other.
      while (heredocs.length) {
        const { id, indented } = heredocs.shift()!;
        const bodyStart = i;
        let terminatorEnd = -1;
        for (let ls = i; ls < text.length; ) {
          const nl = text.indexOf("\n", ls);
          const le = nl === -1 ? text.length : nl;
          const line = text.slice(ls, le).replace(/\r$/, "");
          if ((indented ? line.trim() : line) === id) {
            terminatorEnd = le;
            break;
          }
          if (nl === -1) break;
          ls = nl + 1;
        }
        const stop = terminatorEnd === -1 ? text.length : terminatorEnd;
        blank(code, bodyStart, stop);
        blank(masked, bodyStart, stop);
        if (stop >= end) return done("heredoc");
        i = stop;
      }
      continue;
    }
    if (atLineStart && /^=begin(\s|$)/.test(text.slice(i, i + 7))) {
      const stop = closeAfter(text, i);
      blank(code, i, stop);
      blank(masked, i, stop);
      if (stop >= end) return done("comment");
      i = stop;
      continue;
    }
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      const stop = nl === -1 ? text.length : nl;
      blank(code, i, stop);
      blank(masked, i, stop);
      if (stop >= end) return done("comment");
      i = stop;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const close = skipQuoted(text, i + 1, c, c, c !== "'");
      // Inside the literal when it closes at or after `end` (the cursor sits before the closing quote).
      if (close === -1 || close >= end) {
        blank(masked, i + 1, end);
        return done("string", i, c);
      }
      blank(masked, i + 1, close);
      i = close + 1;
      continue;
    }
    if (c === "%") {
      const m = /^%([qQwWiI]?)([([{<|!/])/.exec(text.slice(i, i + 3));
      const prev = previousNonSpace(text, i);
      // `%(…)` without a letter is a string only where a value may start (not `x % (y)`).
      if (m && (m[1] !== "" || !/[\w)\]}]/.test(prev))) {
        const open = m[2];
        const close = skipQuoted(text, i + m[0].length, open, CLOSERS[open] ?? open, /[QWI]|^$/.test(m[1]));
        if (close === -1 || close >= end) {
          blank(masked, i + m[0].length, end);
          return done("string", i, "%");
        }
        blank(masked, i + m[0].length, close);
        i = close + 1;
        continue;
      }
    }
    if (c === "<" && text[i + 1] === "<" && text[i - 1] !== "<") {
      const m = /^<<([-~]?)(["'`]?)([A-Za-z_]\w*)\2/.exec(text.slice(i, i + 200));
      // `<<ID` needs a capital (or a quote or -/~): `list <<item` stays a shift.
      if (m && (m[1] !== "" || m[2] !== "" || /^[A-Z]/.test(m[3]))) {
        heredocs.push({ id: m[3], indented: m[1] !== "" });
        i += m[0].length;
        continue;
      }
    }
    if (c === "?" && /^\?[\\"'#]/.test(text.slice(i, i + 2)) && /[\s(,=]/.test(text[i - 1] ?? " ")) {
      // A character literal such as ?" or ?#: skip it so it opens nothing.
      i += text[i + 1] === "\\" ? 3 : 2;
      continue;
    }
    if (c === "\\") {
      i += 2;
      continue;
    }
    i++;
  }
  return done("code");
}

/** End (exclusive, at the end of the `=end` line) of an `=begin` comment starting at `from`. */
function closeAfter(text: string, from: number): number {
  const re = /\n=end(?=\s|$)/g;
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m) return text.length;
  const nl = text.indexOf("\n", m.index + 1);
  return nl === -1 ? text.length : nl;
}

function previousNonSpace(text: string, i: number): string {
  for (let k = i - 1; k >= 0; k--) if (text[k] !== " " && text[k] !== "\t") return text[k];
  return "";
}

/**
 * Index of the delimiter closing a literal whose contents start at `from`,
 * or -1 when the text ends first. Nested open/close pairs count for `%(…)`
 * literals; `#{…}` is skipped as code (with its own strings) when `interpolate`.
 */
function skipQuoted(text: string, from: number, open: string, close: string, interpolate: boolean): number {
  let depth = 0;
  for (let k = from; k < text.length; k++) {
    const ch = text[k];
    if (ch === "\\") {
      k++;
    } else if (interpolate && ch === "#" && text[k + 1] === "{") {
      k = skipInterpolation(text, k + 2);
      if (k === -1) return -1;
      k--; // the loop's k++ lands after the closing brace
    } else if (ch === close && depth === 0) {
      return k;
    } else if (open !== close && ch === open) {
      depth++;
    } else if (open !== close && ch === close) {
      depth--;
    }
  }
  return -1;
}

/** Index after the `}` closing an interpolation whose code starts at `from`, or -1. */
function skipInterpolation(text: string, from: number): number {
  let depth = 1;
  for (let k = from; k < text.length; k++) {
    const ch = text[k];
    if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return k + 1;
    else if (ch === '"' || ch === "'") {
      k = skipQuoted(text, k + 1, ch, ch, ch === '"');
      if (k === -1) return -1;
    }
  }
  return -1;
}

/** Offset where the line holding `offset` starts. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/**
 * Start of the statement holding `offset`: its line, plus earlier lines while
 * they end in `,`, `(`, `[` or `\` (arguments continued on the next line).
 * `masked` is a scan's masked text, so commas in strings and comments do not count.
 */
export function statementStart(masked: string, offset: number): number {
  let start = lineStartOf(masked, offset);
  while (start > 0) {
    const prevStart = lineStartOf(masked, start - 1);
    const prev = masked.slice(prevStart, start - 1).trimEnd();
    if (!/[,([\\]$/.test(prev)) break;
    start = prevStart;
  }
  return start;
}
