import { DockerfileLanguageServiceFactory, type DockerfileLanguageService } from "dockerfile-language-service";
import type { CompletionItemData, CompletionKind, DiagnosticData, DiagnosticSeverity, FormattingOptions, HoverData, ImageNamesProvider, Position, Range, TextEdit } from "./dockerfile-language-types";
import { fromImageArgumentRange, fromImageCompletions } from "./from-image-completion";

// The service's results are LSP types; these are the few fields we read.
type LspItem = Awaited<ReturnType<DockerfileLanguageService["computeCompletionItems"]>>[number];
type LspHover = NonNullable<ReturnType<DockerfileLanguageService["computeHover"]>>;

// LSP CompletionItemKind numbers the service uses (Keyword 14; Field 5 / Property 10 for flags; Variable 6).
const KINDS: Partial<Record<number, CompletionKind>> = { 14: "keyword", 5: "flag", 10: "flag", 6: "variable" };
const SEVERITIES: Record<number, DiagnosticSeverity> = { 1: "error", 2: "warning", 3: "information", 4: "hint" };
const SNIPPET_FORMAT = 2;

/**
 * Completion, hover, diagnostics and formatting for Dockerfiles, computed in
 * process by dockerfile-language-service (no language server), plus image
 * names after FROM from a provider (Hangar's engine). Stateless: every call
 * takes the document's whole text.
 */
export class DockerfileLanguage {
  private readonly service: DockerfileLanguageService;

  constructor(private readonly imageNames?: ImageNamesProvider) {
    this.service = DockerfileLanguageServiceFactory.createLanguageService();
    this.service.setCapabilities({
      completion: { completionItem: { snippetSupport: true, documentationFormat: ["markdown"] } },
      hover: { contentFormat: ["markdown"] },
    });
  }

  async computeCompletions(content: string, position: Position): Promise<CompletionItemData[]> {
    const items = (await this.service.computeCompletionItems(content, position)).map((item) => this.toCompletion(item, position));
    const imageRange = fromImageArgumentRange(content, position);
    return imageRange ? [...(await fromImageCompletions(imageRange, this.imageNames)), ...items] : items;
  }

  computeHover(content: string, position: Position): HoverData | undefined {
    const hover = this.service.computeHover(content, position);
    if (!hover) return undefined;
    const contents = hoverMarkdown(hover.contents);
    return contents ? { contents, range: hover.range } : undefined;
  }

  computeDiagnostics(content: string): DiagnosticData[] {
    return this.service.validate(content).map((d) => ({
      range: d.range,
      message: d.message,
      severity: SEVERITIES[d.severity ?? 1] ?? "error",
      code: d.code,
      source: d.source ?? "dockerfile-utils",
    }));
  }

  computeFormatting(content: string, options: FormattingOptions): TextEdit[] {
    return this.service.format(content, { ...options });
  }

  computeRangeFormatting(content: string, range: Range, options: FormattingOptions): TextEdit[] {
    return this.service.formatRange(content, range, { ...options });
  }

  private toCompletion(item: LspItem, position: Position): CompletionItemData {
    // Documentation comes from a separate resolve step in the service; it is cheap, so do it now.
    const resolved = item.documentation ? item : this.service.resolveCompletionItem(item);
    const edit = resolved.textEdit;
    const range = edit && "range" in edit ? edit.range : edit ? edit.replace : { start: position, end: position };
    const doc = resolved.documentation;
    return {
      label: resolved.label,
      kind: KINDS[resolved.kind ?? 0] ?? "text",
      insertText: edit?.newText ?? resolved.insertText ?? resolved.label,
      isSnippet: resolved.insertTextFormat === SNIPPET_FORMAT,
      range,
      documentation: doc === undefined ? undefined : typeof doc === "string" ? doc : doc.value,
      detail: resolved.detail,
      sortText: resolved.sortText,
    };
  }
}

function hoverMarkdown(contents: LspHover["contents"]): string {
  const parts = Array.isArray(contents) ? contents : [contents];
  return parts.map((c) => (typeof c === "string" ? c : "kind" in c ? c.value : `\`\`\`${c.language}\n${c.value}\n\`\`\``)).join("\n\n");
}
