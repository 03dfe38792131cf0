/**
 * What the Dockerfile editing services return: plain, LSP-shaped data
 * (0-based lines and characters), so the core stays editor-agnostic and the
 * VS Code providers only translate.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export type CompletionKind = "keyword" | "flag" | "variable" | "image" | "text";

export interface CompletionItemData {
  label: string;
  kind: CompletionKind;
  /** Replaces `range`; a snippet (`${1:name}` placeholders) when isSnippet. */
  insertText: string;
  isSnippet: boolean;
  range: Range;
  /** Markdown. */
  documentation?: string;
  detail?: string;
  sortText?: string;
}

export interface HoverData {
  /** Markdown. */
  contents: string;
  range?: Range;
}

export type DiagnosticSeverity = "error" | "warning" | "information" | "hint";

export interface DiagnosticData {
  range: Range;
  message: string;
  severity: DiagnosticSeverity;
  code?: string | number;
  /** Who found it: "dockerfile-utils" (the validator). */
  source: string;
}

export interface FormattingOptions {
  tabSize: number;
  insertSpaces: boolean;
}

/** The image names offered after `FROM`; may reject or be slow — completion copes. */
export type ImageNamesProvider = () => Promise<string[]>;
