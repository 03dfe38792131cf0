import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DockerfileLanguage } from "../../../../src/core/dockerfile/dockerfile-language";
import type { TextEdit } from "../../../../src/core/dockerfile/dockerfile-language-types";

const language = new DockerfileLanguage();

/** Applies non-overlapping edits, last first, so earlier offsets stay valid. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split("\n");
  const offset = (p: { line: number; character: number }): number => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start)).reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

describe("DockerfileLanguage", () => {
  it("offers instructions on an empty line, as snippets with their docs", async () => {
    const items = await language.computeCompletions("FROM busybox\n\n", { line: 1, character: 0 });
    const keywords = items.filter((i) => i.kind === "keyword").map((i) => i.label.split(" ")[0]);
    for (const k of ["FROM", "RUN", "COPY"]) assert.ok(keywords.includes(k), `${k} in ${keywords.join(",")}`);
    const run = items.find((i) => i.label.startsWith("RUN "));
    assert.ok(run);
    assert.equal(run.insertText, "RUN ${1:command}");
    assert.equal(run.isSnippet, true);
    assert.deepEqual(run.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } });
    assert.match(run.documentation ?? "", /Execute any commands on top of the current image/);
  });

  it("offers only FROM in an empty file (a Dockerfile starts with it)", async () => {
    const items = await language.computeCompletions("", { line: 0, character: 0 });
    assert.deepEqual(
      items.map((i) => i.label),
      ["FROM baseImage"],
    );
  });

  it("hover on RUN shows its documentation", () => {
    const hover = language.computeHover("FROM busybox\nRUN echo hi\n", { line: 1, character: 1 });
    assert.ok(hover);
    assert.match(hover.contents, /Execute any commands on top of the current image as a new layer/);
    assert.equal(language.computeHover("FROM busybox\nRUN echo hi\n", { line: 1, character: 6 }), undefined, "no doc for a shell word");
  });

  it("reports an unknown instruction on its line, as an error", () => {
    const diagnostics = language.computeDiagnostics("FROM busybox\nRUN true\nFOO bar\n");
    assert.deepEqual(
      diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.character, d.severity, d.message, d.source]),
      [[2, 0, 3, "error", "Unknown instruction: FOO", "dockerfile-utils"]],
    );
  });

  it("reports a missing FROM on the first instruction, and a lowercase keyword as a warning", () => {
    const missing = language.computeDiagnostics("# no base\nRUN echo\n");
    assert.deepEqual(
      missing.map((d) => [d.range.start.line, d.severity, d.message]),
      [[1, "error", "No source image provided with `FROM`"]],
    );
    const lower = language.computeDiagnostics("from busybox\n");
    assert.deepEqual(
      lower.map((d) => [d.range.start.line, d.severity]),
      [[0, "warning"]],
    );
    assert.match(lower[0].message, /uppercase/i);
    assert.deepEqual(language.computeDiagnostics("FROM busybox\nRUN echo hi\n"), []);
  });

  it("formats indentation: instructions flush left, continuation lines indented", () => {
    const text = "  from busybox\n   RUN echo hi && \\\necho there\n";
    const edits = language.computeFormatting(text, { tabSize: 4, insertSpaces: true });
    assert.equal(applyEdits(text, edits), "from busybox\nRUN echo hi && \\\n    echo there\n");
    assert.equal(applyEdits(text, language.computeFormatting(text, { tabSize: 2, insertSpaces: false })), "from busybox\nRUN echo hi && \\\n\techo there\n");
    // Range formatting touches only the lines asked for.
    const ranged = language.computeRangeFormatting(text, { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }, { tabSize: 4, insertSpaces: true });
    assert.equal(applyEdits(text, ranged), "  from busybox\nRUN echo hi && \\\necho there\n");
  });
});
