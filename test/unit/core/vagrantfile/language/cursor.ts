/** Splits a test source at its cursor mark `‸`: the text without it, and the offset. */
export function atCursor(source: string): { text: string; offset: number } {
  const offset = source.indexOf("‸");
  if (offset === -1 || source.indexOf("‸", offset + 1) !== -1) throw new Error(`the source needs exactly one ‸: ${source}`);
  return { text: source.slice(0, offset) + source.slice(offset + 1), offset };
}

/** Wraps body lines in `Vagrant.configure("2") do |config| … end`. */
export function inConfigure(...body: string[]): string {
  return ['Vagrant.configure("2") do |config|', ...body.map((l) => `  ${l}`), "end", ""].join("\n");
}
