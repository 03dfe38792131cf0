import { DockerfileParser, From } from "dockerfile-ast";
import type { CompletionItemData, ImageNamesProvider, Position, Range } from "./dockerfile-language-types";

/**
 * Images every Hangar engine has without a registry: `scratch` (the empty
 * image), the built-in `busybox:latest` and Debian 12 images. Always offered after FROM.
 */
export const BUILTIN_IMAGE_NAMES = ["debian:bookworm", "debian:bookworm-slim", "busybox:latest", "scratch"];

/**
 * The range a FROM image name at `position` would replace, or undefined when
 * the cursor is not in a FROM instruction's image argument: after `FROM` and
 * its flags (`--platform=…`), on or before the first other argument — not on
 * `AS name`.
 */
export function fromImageArgumentRange(content: string, position: Position): Range | undefined {
  const instruction = DockerfileParser.parse(content)
    .getInstructions()
    // By line: an instruction's range ends at its last argument, not at trailing blanks.
    .find((i) => i.getRange().start.line <= position.line && position.line <= i.getRange().end.line);
  if (!(instruction instanceof From)) return undefined;
  // Right after the keyword (`FROM|`) the word is still the keyword.
  if (!isAfter(position, instruction.getInstructionRange().end)) return undefined;
  // Flags (`--platform=…`) are not among FROM's arguments; the image is the first argument.
  if (instruction.getFlags().some((f) => within(f.getRange(), position))) return undefined;
  const image = instruction.getArguments()[0];
  if (!image) return { start: position, end: position };
  if (within(image.getRange(), position)) return image.getRange();
  // Before the image (between flags and it): insert a new name there.
  return isAfter(image.getRange().start, position) ? { start: position, end: position } : undefined;
}

/** FROM completion items for the names the provider gives plus the built-in ones, deduplicated. */
export async function fromImageCompletions(range: Range, provider?: ImageNamesProvider): Promise<CompletionItemData[]> {
  let names: string[] = [];
  try {
    names = provider ? await provider() : [];
  } catch {
    // No engine (or it failed): the built-in names still help.
  }
  const all = [...new Set([...names, ...BUILTIN_IMAGE_NAMES])];
  return all.map((name) => ({
    label: name,
    kind: "image",
    insertText: name,
    isSnippet: false,
    range,
    detail: BUILTIN_IMAGE_NAMES.includes(name) ? "Built-in image (no registry needed)" : "Image in Hangar's engine",
    // Before the service's flag suggestions (`--platform`).
    sortText: `0_${name}`,
  }));
}

function within(r: Range, position: Position): boolean {
  return !isAfter(r.start, position) && !isAfter(position, r.end);
}

/** a strictly after b. */
function isAfter(a: Position, b: Position): boolean {
  return a.line > b.line || (a.line === b.line && a.character > b.character);
}
