import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isInside, packPaths, walkTree } from "../sync/tree-archive";
import { errorMessage } from "../util/errors";
import { shellQuote } from "../util/shell-quote";
import type { Provisioner } from "../vagrantfile/machine-config";
import type { MachineSession } from "./machine-session";
import { ProvisionError, type ProvisionContext, type Say } from "./provision";

/**
 * Where an upload lands, relative to the guest-expanded destination D, by
 * Vagrant's file provisioner and its SSH communicator's `upload`:
 * - a folder's contents go into D when the source ends with "." ("dir/.")
 *   or D does not end with "/"; with "dir" and "dest/" the folder itself
 *   goes into D (D/dir);
 * - a file is written to D, or to D/NAME when D ends with "/" (and, as
 *   scp does, into an existing folder D as D/basename(D)).
 * `suffix` is what follows D.
 */
export function fileUploadPlan(source: string, destination: string, sourceIsDir: boolean, sourceAbs: string): { kind: "folder" | "file"; suffix: string } {
  const base = path.basename(sourceAbs);
  if (sourceIsDir) {
    const contents = source.endsWith(".") || !destination.endsWith("/");
    return { kind: "folder", suffix: contents ? "" : `/${base}` };
  }
  return { kind: "file", suffix: destination.endsWith("/") ? base : "" };
}

/**
 * The guest command that receives the upload on stdin, run as the SSH user:
 * the destination expanded by its shell (`~`, `$HOME`; spaces kept, as
 * Vagrant's shell_expand_guest_path does), folders made as needed, then
 * `tar -x` of a folder's archive (files owned by the user) or the file's bytes.
 */
export function fileUploadCommand(destination: string, plan: { kind: "folder" | "file"; suffix: string }): string {
  const expand = `D=$(printf %s ${destination.replace(/ /g, "\\ ")}) && [ -n "$D" ] && T="$D"${plan.suffix ? shellQuote(plan.suffix) : ""}`;
  if (plan.kind === "folder") return `${expand} && mkdir -p "$T" && tar -x -o -C "$T"`;
  return `${expand} && { [ ! -d "$T" ] || T="$T/\${T##*/}"; } && mkdir -p "$(dirname "$T")" && cat > "$T"`;
}

/**
 * A folder as one tar stream of what is in it: files (with their mode),
 * folders and symlinks. Symlinks stay links and are never followed, so
 * nothing outside the folder is read, whatever a link points at; `escaping`
 * lists the links that point outside it.
 */
export async function packFolder(root: string): Promise<{ archive: Buffer; entries: number; escaping: string[] }> {
  const rels = await walkTree(root, () => false);
  const escaping: string[] = [];
  for (const rel of rels) {
    const abs = path.join(root, rel);
    const target = await fs.readlink(abs).catch(() => undefined);
    if (target !== undefined && !isInside(path.resolve(root), path.resolve(path.dirname(abs), target))) escaping.push(rel);
  }
  const { archive, entries } = await packPaths(root, rels);
  return { archive, entries, escaping };
}

/**
 * Vagrant's file provisioner: a file or a folder (one tar stream) from the
 * host to the guest, written as the SSH user, so what it writes is the user's
 * and places the user cannot write fail, as in Vagrant.
 */
export async function runFile(p: Provisioner, ctx: ProvisionContext, session: MachineSession, say: Say): Promise<void> {
  if (p.source === null || p.destination === null)
    throw new ProvisionError(`A file provisioner of '${ctx.machine.name}' has no ${p.source === null ? "source" : "destination"} (${ctx.vagrantfile}).`, "Set both source and destination.");
  const sourceAbs = path.resolve(ctx.projectDir, p.source.replace(/^~(?=$|[\\/])/, os.homedir()));
  // The source named in the Vagrantfile is taken as it resolves (it may itself be a link), as in Vagrant; links inside a folder are not followed.
  const stat = await fs.stat(sourceAbs).catch(() => undefined);
  if (!stat)
    throw new ProvisionError(
      `File upload source file ${sourceAbs} must exist (source: "${p.source}" in ${ctx.vagrantfile}).`,
      "Fix `source:` in the Vagrantfile (a relative path starts at the Vagrantfile's folder).",
    );
  say(`${p.source} => ${p.destination}`);
  const plan = fileUploadPlan(p.source, p.destination, stat.isDirectory(), sourceAbs);
  let data: Buffer;
  if (plan.kind === "folder") {
    const packed = await packFolder(sourceAbs);
    for (const rel of packed.escaping) say(`${rel} is a symlink to outside ${p.source}: copied as a link, not followed.`, "stderr");
    data = packed.archive;
  } else {
    data = await fs.readFile(sourceAbs).catch((err: unknown) => {
      throw new ProvisionError(`Reading ${sourceAbs} (source: "${p.source}" in ${ctx.vagrantfile}) failed: ${errorMessage(err)}`);
    });
  }
  const r = await session.run(fileUploadCommand(p.destination, plan), { stdin: data });
  if (r.code !== 0)
    throw new ProvisionError(
      `Failed to upload ${p.source} to ${p.destination} in '${ctx.machine.name}' as ${ctx.sshUser}: ${r.stderr.trim() || `exit status ${r.code}`}`,
      "The file provisioner writes as the SSH user, as in Vagrant: upload to a place it owns (such as /tmp or ~) and move the files with a shell provisioner.",
    );
}
