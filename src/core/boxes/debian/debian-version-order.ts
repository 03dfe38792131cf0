/**
 * Debian version ordering, as dpkg implements it (deb-version(7), dpkg's
 * `lib/dpkg/version.c`): `[epoch:]upstream[-revision]`.
 *  - The epoch (digits before the first `:`) counts first; none means 0.
 *  - The revision is what follows the last `-`; none compares equal to "0".
 *  - Upstream and revision are compared left to right as alternating runs:
 *    a non-digit run character by character, where `~` sorts before
 *    everything (even the end of the string, so 1.0~rc1 < 1.0), letters
 *    before non-letters; then a digit run as a number (leading zeros do not
 *    count, and the digits are compared as text so no run overflows).
 * Returns < 0, 0 or > 0, like a sort comparator.
 */
export function compareDebianVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  return sign(compareDigits(va.epoch, vb.epoch)) || sign(compareRuns(va.upstream, vb.upstream)) || sign(compareRuns(va.revision, vb.revision));
}

interface ParsedVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

function parseVersion(version: string): ParsedVersion {
  const v = version.trim();
  const colon = v.indexOf(":");
  const hasEpoch = colon > 0 && /^\d+$/.test(v.slice(0, colon));
  const epoch = hasEpoch ? v.slice(0, colon) : "0";
  const rest = hasEpoch ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf("-");
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: "" };
}

/** dpkg's order(): the weight of one character of a non-digit run; 0 is the end of the run. */
function weight(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === "~") return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp(). */
function compareRuns(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = weight(a[i]) - weight(b[j]);
      if (d) return d;
      // Equal weights that are not both "end of run" mean equal characters.
      i++;
      j++;
    }
    const startA = i;
    const startB = j;
    while (i < a.length && isDigit(a[i])) i++;
    while (j < b.length && isDigit(b[j])) j++;
    const d = compareDigits(a.slice(startA, i), b.slice(startB, j));
    if (d) return d;
  }
  return 0;
}

/** Compares two digit strings as numbers of any length. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, "");
  const y = b.replace(/^0+/, "");
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
