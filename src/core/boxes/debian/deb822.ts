/**
 * The deb822 control-file syntax (deb822(5)) shared by apt's `*.sources`
 * files, a repository's `Release` and `Packages` indexes and a package's
 * `control` file: paragraphs separated by blank lines, `Field: value` lines,
 * continuation lines that start with a space or tab, `#` comment lines.
 */

/**
 * One paragraph. Field names are case-insensitive in deb822, so lookups go
 * through `get`; `fields` keeps the names as written, in order.
 */
export class Deb822Paragraph {
  private readonly byLowerName = new Map<string, string>();

  constructor(readonly fields: ReadonlyMap<string, string>) {
    for (const [name, value] of fields) this.byLowerName.set(name.toLowerCase(), value);
  }

  get(name: string): string | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.byLowerName.has(name.toLowerCase());
  }
}

/**
 * Parses deb822 text. Multi-line values keep their line structure: the first
 * line (possibly empty, as in `SHA256:`) then one line per continuation, each
 * trimmed; a continuation of just "." stands for an empty line (Description).
 * `only` keeps just the named fields (case-insensitive), which saves memory
 * on a whole-archive Packages index (tens of thousands of paragraphs).
 */
export function parseDeb822(text: string, options: { only?: readonly string[] } = {}): Deb822Paragraph[] {
  const only = options.only && new Set(options.only.map((f) => f.toLowerCase()));
  const paragraphs: Deb822Paragraph[] = [];
  let fields = new Map<string, string>();
  let current: string | undefined;
  const flush = (): void => {
    if (fields.size) paragraphs.push(new Deb822Paragraph(fields));
    fields = new Map();
    current = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") {
      flush();
      continue;
    }
    // Comments are allowed anywhere (apt's *.sources use them inside
    // paragraphs); they neither end a paragraph nor continue a field.
    if (line.startsWith("#")) continue;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (current === undefined) continue; // a stray continuation, or one of a skipped field
      const part = line.trim();
      fields.set(current, `${fields.get(current)}\n${part === "." ? "" : part}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // not a field; deb822 readers skip such lines
    const name = line.slice(0, colon).trim();
    current = only && !only.has(name.toLowerCase()) ? undefined : name;
    if (current !== undefined) fields.set(current, line.slice(colon + 1).trim());
  }
  flush();
  return paragraphs;
}
