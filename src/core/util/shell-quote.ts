/** One POSIX shell word for `s`, whatever it holds: single quotes, with each `'` closed, escaped and reopened. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
