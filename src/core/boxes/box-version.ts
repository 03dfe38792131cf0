// Box versions and `config.vm.box_version` constraints, read as Vagrant reads
// them: RubyGems' Gem::Version ordering and Gem::Requirement operators, a
// constraint being a comma-separated list that must all hold (">= 1.0, < 2").
// Compared as strings, "10.0" sorted before "9.0"; compared as versions it does not.
import { HangarError } from "../util/errors";

type Segment = number | string;

/** Gem::Version's segments: runs of digits are numbers, runs of letters are strings ("1.0.b1" → 1, 0, "b", 1). */
function segments(version: string): Segment[] {
  const v = version.trim();
  if (!isVersion(v)) throw new HangarError(`'${version}' is not a version number.`, "Use dotted numbers, as in 1.2.3 (a letter marks a prerelease, as in 1.2.0.rc1).");
  return (v.match(/\d+|[a-z]+/gi) ?? []).map((s) => (/^\d/.test(s) ? Number(s) : s));
}

/** A version Gem::Version accepts: digits and letters separated by dots or dashes. */
export function isVersion(v: string): boolean {
  return /^[0-9]+(?:[-.]?[0-9a-zA-Z]+)*$/.test(v.trim());
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b` ("1.0" equals "1"; "1.0.rc1" is older than "1.0"). */
export function compareVersions(a: string, b: string): number {
  const x = canonical(segments(a));
  const y = canonical(segments(b));
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    // A letter (prerelease) sorts before any number, as in RubyGems.
    if (typeof p === "string" && typeof q === "number") return -1;
    if (typeof p === "number" && typeof q === "string") return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/** Trailing zeros do not count (RubyGems' canonical segments): 1.0.0 is 1. */
function canonical(s: Segment[]): Segment[] {
  const out = [...s];
  while (out.length > 1 && out[out.length - 1] === 0) out.pop();
  return out;
}

type Operator = "=" | "!=" | ">" | "<" | ">=" | "<=" | "~>";

interface Requirement {
  op: Operator;
  version: string;
}

/**
 * Parses a box_version constraint. Throws a HangarError naming the bad part,
 * worded as Vagrant's "Invalid box version constraints".
 */
export function parseVersionConstraint(constraint: string): Requirement[] {
  const parts = constraint.split(",").map((p) => p.trim());
  return parts.map((part) => {
    const m = /^(=|!=|>=|<=|>|<|~>)?\s*(\S+)$/.exec(part);
    if (!m || !isVersion(m[2]))
      throw new HangarError(`Invalid box version constraints: ${constraint}`, "Write versions such as 1.2.3 with an optional operator (=, !=, >, <, >=, <=, ~>), several separated by commas.");
    return { op: (m[1] ?? "=") as Operator, version: m[2] };
  });
}

/** Whether `version` meets every requirement of `constraint` (Gem::Requirement#satisfied_by?). */
export function satisfiesConstraint(version: string, constraint: string): boolean {
  if (!isVersion(version)) return false;
  return parseVersionConstraint(constraint).every(({ op, version: wanted }) => {
    const c = compareVersions(version, wanted);
    switch (op) {
      case "=":
        return c === 0;
      case "!=":
        return c !== 0;
      case ">":
        return c > 0;
      case "<":
        return c < 0;
      case ">=":
        return c >= 0;
      case "<=":
        return c <= 0;
      case "~>":
        return c >= 0 && compareVersions(version, pessimisticBound(wanted)) < 0;
    }
  });
}

/** The upper bound of `~> v`: drop v's last segment (and any prerelease part), then bump the one before (~> 1.2 → 2, ~> 1.2.3 → 1.3). */
function pessimisticBound(v: string): string {
  const numbers = segments(v).filter((s): s is number => typeof s === "number");
  const kept = numbers.length > 1 ? numbers.slice(0, -1) : numbers;
  kept[kept.length - 1] += 1;
  return kept.join(".");
}

/** The newest of `versions` that meets `constraint` (any, when there is none), as Vagrant picks an installed box. */
export function newestSatisfying(versions: string[], constraint: string | null): string | undefined {
  const ok = constraint ? versions.filter((v) => satisfiesConstraint(v, constraint)) : versions.filter(isVersion);
  return ok.sort(compareVersions).pop();
}
