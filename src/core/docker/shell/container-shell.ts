/**
 * The command of "Attach Shell" for the `hangar.containers.shell` setting:
 * "auto" takes bash when the image has it, else sh (images are untrusted,
 * so the choice is made by the container's own /bin/sh, never by host
 * parsing of its files); anything else is run as written, split on spaces
 * ("bash -l", "/bin/ash").
 */
export function containerShellCommand(setting: string | undefined): string[] {
  const words = (setting ?? "auto").trim().split(/\s+/).filter(Boolean);
  if (!words.length || (words.length === 1 && words[0] === "auto")) return ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"];
  return words;
}

/** The `tail` of a logs terminal for `hangar.containers.logsTail`: the last `lines` lines (1000 unset), or undefined — every line, Docker's default — for 0. */
export function logsTail(lines: number | undefined): number | undefined {
  return lines === undefined ? 1000 : lines <= 0 ? undefined : Math.floor(lines);
}
