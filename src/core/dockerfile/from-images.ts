import { parseDockerfile, splitFlags } from "../engine/build/dockerfile-parse";

/** An image a FROM names, and where the name stands (0-based line, columns [start, end)). */
export interface FromImage {
  name: string;
  line: number;
  start: number;
  end: number;
}

/**
 * The images FROM instructions name, read by the builder's own parser
 * (continuations, flags, escape directive), skipping earlier stages' names,
 * `scratch` and `$ARG` names (unknown until the build).
 */
export function fromImages(text: string): FromImage[] {
  const lines = text.split(/\r?\n/);
  const stages = new Set<string>();
  const found: FromImage[] = [];
  for (const instruction of parseDockerfile(text).instructions) {
    if (instruction.keyword !== "FROM") continue;
    const [name, as, stage] = splitFlags(instruction.args).rest.split(/\s+/);
    if (!name) continue;
    if (!stages.has(name.toLowerCase()) && name !== "scratch" && !name.includes("$")) {
      // The name's place: on the instruction's first line after the keyword, or on a continuation line.
      const first = instruction.line - 1;
      for (let line = first; line < lines.length; line++) {
        const after = line === first ? (/FROM/i.exec(lines[line])?.index ?? 0) + 4 : 0;
        const start = lines[line].indexOf(name, after);
        if (start >= 0) {
          found.push({ name, line, start, end: start + name.length });
          break;
        }
      }
    }
    if (as?.toLowerCase() === "as" && stage) stages.add(stage.toLowerCase());
  }
  return found;
}
