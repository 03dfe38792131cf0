/**
 * Small LSP-like types the Vagrantfile language services return. Positions
 * are character offsets into the document text (UTF-16 code units, as JS
 * strings and VS Code's `offsetAt` count them); the editor adapter converts.
 */

/** A half-open span `[start, end)` of offsets. */
export interface OffsetRange {
  start: number;
  end: number;
}

export type CompletionKind = "property" | "method" | "value" | "keyword";

export interface CompletionItemData {
  label: string;
  kind: CompletionKind;
  /** One line shown beside the label, e.g. `config.vm.box`. */
  detail: string;
  /** Markdown. */
  documentation: string;
  /** What to insert: plain text, or a snippet (VS Code/LSP snippet syntax) when `isSnippet`. */
  insertText: string;
  isSnippet: boolean;
  /** The text the item replaces: the partly typed word (and the rest of it after the cursor). */
  range: OffsetRange;
  /** Keeps the order of Vagrant's docs instead of alphabetical order. */
  sortText: string;
}

export interface HoverData {
  /** Markdown. */
  contents: string;
  range: OffsetRange;
}
