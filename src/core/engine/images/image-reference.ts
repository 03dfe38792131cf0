import { InvalidReferenceError } from "./image-errors";

/**
 * Docker's image reference grammar (distribution/reference) and its
 * normalisation: "busybox" means library/busybox:latest on the default
 * registry, and is shown back as "busybox:latest" (the "familiar" form). The
 * store keys tags by the familiar form, so every spelling of one name meets
 * in one place.
 */

/**
 * The default registry's domain, which Docker puts in front of names that
 * have none. No registry hostname is written into Hangar: it comes from
 * HANGAR_DEFAULT_REGISTRY when set (so "<domain>/library/busybox" meets
 * "busybox"); otherwise names without a domain stay without one.
 */
export function defaultDomain(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.HANGAR_DEFAULT_REGISTRY?.trim() || undefined;
}
const OFFICIAL_PREFIX = "library/";
export const DEFAULT_TAG = "latest";

const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NAME_MAX = 255;

/** A parsed, normalised reference: `name` is fully qualified (domain/path). */
export interface ImageReference {
  /** e.g. "library/busybox" (no domain: the default registry), "localhost:5000/app". */
  name: string;
  /** Undefined when the text named none (callers add "latest" where Docker does). */
  tag?: string;
  /** "sha256:<hex>" for name@digest references. */
  digest?: string;
}

/**
 * Parses `text` as Docker's ParseNormalizedNamed does. Throws
 * InvalidReferenceError with Docker's wording ("invalid reference format").
 */
export function parseReference(text: string): ImageReference {
  if (/^[a-f0-9]{64}$/.test(text)) {
    throw new InvalidReferenceError(`invalid repository name (${text}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalidFormat(text);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalidFormat(text);
  }
  // splitDockerDomain: the first component is a domain only if it looks like one.
  const slash = rest.indexOf("/");
  let domain: string | undefined;
  let remainder: string;
  const first = slash < 0 ? "" : rest.slice(0, slash);
  if (slash < 0 || !isDomain(first)) {
    remainder = rest;
  } else {
    domain = first === defaultDomain() ? undefined : first;
    remainder = rest.slice(slash + 1);
  }
  if (domain === undefined && !remainder.includes("/")) remainder = OFFICIAL_PREFIX + remainder;
  if (remainder.toLowerCase() !== remainder) {
    throw new InvalidReferenceError(`invalid reference format: repository name (${remainder}) must be lowercase`);
  }
  const name = domain === undefined ? remainder : `${domain}/${remainder}`;
  if (!NAME.test(name)) throw invalidFormat(text);
  if (name.length > NAME_MAX) throw new InvalidReferenceError(`invalid reference format: repository name must not be more than ${NAME_MAX} characters`);
  return { name, tag, digest };
}

/** The reference with "latest" added when it names neither tag nor digest (TagNameOnly). */
export function withDefaultTag(ref: ImageReference): ImageReference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** splitDockerDomain's test: a first component is a domain only if it looks like one. */
function isDomain(component: string): boolean {
  return /[.:]/.test(component) || component === "localhost" || component.toLowerCase() !== component;
}

/** "library/busybox" → "busybox"; "me/app" and "localhost:5000/app" unchanged. */
export function familiarName(name: string): string {
  const slash = name.indexOf("/");
  if (slash >= 0 && isDomain(name.slice(0, slash))) return name;
  if (name.startsWith(OFFICIAL_PREFIX) && !name.slice(OFFICIAL_PREFIX.length).includes("/")) return name.slice(OFFICIAL_PREFIX.length);
  return name;
}

/** As Docker prints references: familiar name, then ":tag", then "@digest". */
export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref.name)}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** "domain/path:tag" as `io.containerd.image.name` holds it; without a configured default domain, the familiar form (which Docker's loader normalises). */
export function fullString(ref: ImageReference): string {
  const slash = ref.name.indexOf("/");
  const qualified = slash >= 0 && isDomain(ref.name.slice(0, slash));
  const domain = defaultDomain();
  if (!qualified && domain === undefined) return familiarString(ref);
  return `${qualified ? "" : `${domain}/`}${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/**
 * A name and tag, as `docker tag` takes them (POST /images/{name}/tag?repo=&tag=):
 * the tag argument wins over one inside `repo`; neither means "latest";
 * digests cannot be tag targets. Returns the familiar "name:tag".
 */
export function parseTagTarget(repo: string, tag?: string): string {
  const parsed = parseReference(repo);
  if (parsed.digest !== undefined) throw new InvalidReferenceError("refusing to create a tag with a digest reference");
  if (familiarName(parsed.name) === "sha256") throw new InvalidReferenceError("refusing to create an ambiguous tag using digest algorithm as name");
  const chosen = tag === undefined || tag === "" ? (parsed.tag ?? DEFAULT_TAG) : tag;
  if (!TAG.test(chosen)) throw new InvalidReferenceError(`invalid tag format: ${chosen}`);
  return familiarString({ name: parsed.name, tag: chosen });
}

/** The repository part of a familiar "name:tag" (the colon after the last slash splits). */
export function splitFamiliarTag(familiar: string): { repo: string; tag: string } {
  const colon = familiar.lastIndexOf(":");
  return { repo: familiar.slice(0, colon), tag: familiar.slice(colon + 1) };
}

/**
 * Docker's FamiliarMatch (the `reference=` filter): path.Match of the pattern
 * against the familiar "name:tag" or against the familiar name alone. `*`
 * and `?` do not cross "/", `[...]` is a class, `\` escapes.
 */
export function matchesReferencePattern(pattern: string, familiarTag: string): boolean {
  const re = globToRegExp(pattern);
  if (!re) return false;
  return re.test(familiarTag) || re.test(splitFamiliarTag(familiarTag).repo);
}

function globToRegExp(pattern: string): RegExp | undefined {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      if (++i >= pattern.length) return undefined; // a trailing escape is a bad pattern
      out += escapeRegExp(pattern[i]);
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return undefined;
      let body = pattern.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1)}`; // path.Match spells negation "^" as regexps do
      out += `[${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function invalidFormat(text: string): InvalidReferenceError {
  return new InvalidReferenceError(`invalid reference format: "${text}" is not a valid image reference`, "Use name[:tag] with lowercase letters, digits and . _ - separators, e.g. myapp:1.0.");
}
