import { createHash } from "node:crypto";
import * as path from "node:path/posix";

// Pure helpers of the machine file system (no `vscode` import), so unit tests can give them what a hostile guest could.

/** Folders list at most this many entries: a guest's SFTP server that never says EOF must not fill the host's memory. */
export const MAX_DIRECTORY_ENTRIES = 20_000;

/**
 * The `hangar-machine://<authority>` of a machine: its name (made safe for a
 * host name) and a hash of its Vagrantfile and name, so two projects'
 * `default` machines differ and the URI carries no host path.
 */
export function machineAuthority(vagrantfile: string, name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "machine";
  const hash = createHash("sha256").update(`${vagrantfile}\0${name}`).digest("hex").slice(0, 12);
  return `${slug}.${hash}`;
}

/**
 * A guest path from a URI path: absolute and normalized, so `..` stops at the
 * guest's `/` (these are paths in the guest, never resolved on the host).
 */
export function guestPath(uriPath: string): string {
  return path.normalize(`/${uriPath}`);
}

/**
 * A name a guest listed, if it can be one entry of its folder: not empty,
 * `.` or `..`, and without `/` or NUL (a real file system has none; a hostile
 * SFTP server could send them to make a child URI point elsewhere).
 */
export function isEntryName(name: unknown): name is string {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}
