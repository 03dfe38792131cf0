import { displayName, version, dependencies } from "../../package.json";

/** Name and version as shipped, read from package.json at build time (named imports keep the rest out of the bundle). */
export const product = {
  name: displayName,
  version,
  v86Version: dependencies.v86,
} as const;
