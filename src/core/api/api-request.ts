import type * as http from "node:http";
import { BadParameterError } from "./api-errors";

/** Largest JSON request body read (container configs are a few KB; this bounds a hostile one). */
const MAX_JSON_BODY = 4 << 20;

/**
 * A JSON request body (Docker's httputils.ReadJSON): malformed JSON, a body
 * that is not an object, or one over 4 MiB is a 400 with what was wrong.
 * An empty body is undefined, for endpoints where the body is optional.
 */
export async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const text = (
    await readBody(req, MAX_JSON_BODY, () => new BadParameterError(`The request body is larger than ${MAX_JSON_BODY >> 20} MiB; a JSON body this size is not one Docker clients send.`))
  ).toString("utf8");
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadParameterError(`The request body is not valid JSON: ${(err as Error).message}.`, "Send a JSON object, with Content-Type: application/json.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BadParameterError("The request body must be a JSON object.");
  return value as Record<string, unknown>;
}

/** A whole request body of at most `max` bytes; past that, the rest is drained and `tooLarge()` thrown. */
export async function readBody(req: http.IncomingMessage, max: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Docker's label filter: each wanted value "key" (present) or "key=value" (equal); all must hold. */
export function labelsMatch(labels: Record<string, string> | null | undefined, wanted: string[] | undefined): boolean {
  const have = labels ?? {};
  return (wanted ?? []).every((w) => {
    const at = w.indexOf("=");
    return at < 0 ? w in have : have[w.slice(0, at)] === w.slice(at + 1);
  });
}

/** Docker's httputils.BoolValue: absent, "", "0", "no", "false" and "none" are false; anything else is true. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  const value = (query.get(name) ?? "").trim().toLowerCase();
  return !["", "0", "no", "false", "none"].includes(value);
}

/**
 * Docker's `filters` parameter: JSON mapping each filter to its values,
 * either as {"value": true} (what clients send since API 1.22) or as
 * ["value"] (older clients). Filters not in `allowed` are refused, as
 * Docker refuses them, so a client never gets unfiltered results it did
 * not ask for.
 */
export function queryFilters(query: URLSearchParams, allowed: readonly string[]): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  const text = query.get("filters");
  if (text === null || text.trim() === "") return filters;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadParameterError(`The filters parameter is not valid JSON: ${(err as Error).message}.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BadParameterError("The filters parameter must be a JSON object.");
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw new BadParameterError(`invalid filter '${key}'`, `Hangar's engine supports these filters here: ${allowed.join(", ")}.`);
    let values: string[];
    if (Array.isArray(raw) && raw.every((v) => typeof v === "string")) values = raw as string[];
    else if (typeof raw === "object" && raw !== null && !Array.isArray(raw))
      values = Object.entries(raw as Record<string, unknown>)
        .filter(([, on]) => on === true)
        .map(([v]) => v);
    else throw new BadParameterError(`The values of filter '${key}' must be a JSON object or a list of strings.`);
    filters.set(key, values);
  }
  return filters;
}

/** A filter that must hold one boolean ("true"/"1" or "false"/"0"), as `dangling`. */
export function booleanFilter(filters: Map<string, string[]>, name: string): boolean | undefined {
  const values = filters.get(name);
  if (!values || values.length === 0) return undefined;
  const parsed = new Set(
    values.map((v) => {
      const s = v.toLowerCase();
      if (s === "true" || s === "1") return true;
      if (s === "false" || s === "0") return false;
      throw new BadParameterError(`invalid filter '${name}=${v}'`, "Use true or false.");
    }),
  );
  if (parsed.size > 1) throw new BadParameterError(`The filter '${name}' is given both true and false.`);
  return [...parsed][0];
}

/**
 * A Unix time as Docker clients send `since`/`until` ("1700000000" or
 * "1700000000.123456789"), in nanoseconds; undefined when absent.
 */
export function queryUnixNanos(query: URLSearchParams, name: string): bigint | undefined {
  const text = query.get(name);
  if (text === null || text === "") return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new BadParameterError(`The ${name} parameter "${text}" is not a Unix timestamp.`, "Give seconds since 1970, optionally with a fraction (1700000000.5).");
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}
