import { BadParameterError } from "./api-errors";

/**
 * The Docker Engine API versions Hangar's engine speaks. 1.43 is Docker 24's
 * API: new enough for today's clients (the docker CLI 28 negotiates down to
 * it after `/_ping`, whose Api-Version header carries it), old enough that
 * nothing Hangar cannot do yet is mandatory.
 */
export const API_VERSION = "1.43";
export const MIN_API_VERSION = "1.24";

/** Numeric comparison of dotted versions ("1.9" < "1.43"): negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Splits Docker's optional "/v1.NN" prefix off a request path. Requests
 * without one get the newest version, as Docker does. Versions outside
 * [MIN_API_VERSION, API_VERSION] are refused with Docker's own messages,
 * which clients recognise.
 */
export function splitVersionPrefix(pathname: string): { version: string; path: string } {
  const match = /^\/v([0-9][0-9.]*)(\/.*)?$/.exec(pathname);
  if (!match) return { version: API_VERSION, path: pathname };
  const version = match[1];
  if (!/^\d+(\.\d+)*$/.test(version)) throw new BadParameterError(`invalid API version "${version}" in the request path`);
  if (compareApiVersions(version, API_VERSION) > 0) throw new BadParameterError(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    throw new BadParameterError(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path: match[2] ?? "/" };
}
