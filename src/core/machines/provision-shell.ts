import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { errorMessage } from "../util/errors";
import { shellQuote } from "../util/shell-quote";
import type { MachineConfig, Provisioner } from "../vagrantfile/machine-config";
import type { MachineSession } from "./machine-session";
import { ProvisionError, type ProvisionContext, type Say } from "./provision";

/** Vagrant's quote_and_escape: double quotes, each `"` closed, escaped and reopened. `$VAR` and backquotes still expand in the guest. */
export function quoteAndEscape(text: string): string {
  return `"${text.replace(/"/g, '"\\""')}"`;
}

/**
 * The command Vagrant's shell provisioner runs (provision_ssh): make the
 * uploaded script executable and run it directly, so its shebang picks the
 * interpreter; env values and Array args double-quoted, a String of args
 * appended as written.
 */
export function shellCommand(p: Pick<Provisioner, "args" | "env" | "uploadPath">): string {
  const args = typeof p.args === "string" ? ` ${p.args}` : p.args.length ? ` ${p.args.map(quoteAndEscape).join(" ")}` : "";
  const env = Object.entries(p.env)
    .map(([k, v]) => `${k}=${quoteAndEscape(v)}`)
    .join(" ");
  return `chmod +x '${p.uploadPath}' &&${env ? ` ${env}` : ""} ${p.uploadPath}${args}`;
}

/**
 * What the SSH session executes for `command`: Vagrant feeds it to
 * config.ssh.shell (a login shell; `sh -l` here, as boxes may lack bash) with
 * TERM=vt100, wrapped in config.ssh.sudo_command ("sudo -E -H %c") when
 * privileged. A root SSH user needs no sudo (a box may not have it).
 */
export function guestCommand(command: string, privileged: boolean, ssh: MachineConfig["ssh"], sshUser: string): string {
  const shell = typeof ssh.shell === "string" && ssh.shell.trim() ? ssh.shell : "sh -l";
  const inShell = `${shell} -c ${shellQuote(`export TERM=vt100\n${command}`)}`;
  if (!privileged || sshUser === "root") return inShell;
  const sudo = typeof ssh.sudo_command === "string" && ssh.sudo_command.includes("%c") ? ssh.sudo_command : "sudo -E -H %c";
  return sudo.split("%c").join(inShell);
}

/**
 * CRLF line endings to LF, as Vagrant does unless `binary: true`. (Vagrant's
 * own regex, /\r\n?$/, leaves an empty line after each converted one but the
 * last; its intent, which this follows, is plain LF endings.)
 */
export function unixLineEndings(script: Buffer): Buffer {
  return Buffer.from(script.toString("latin1").replace(/\r\n|\r$/g, "\n"), "latin1");
}

const REMOTE = /^(https?|ftp):\/\//i;

/** The script's bytes: `inline`, a host file (relative to the Vagrantfile's folder), or an http(s) download checked against md5/sha* when given. */
export async function scriptBytes(p: Provisioner, ctx: Pick<ProvisionContext, "projectDir" | "vagrantfile">): Promise<Buffer> {
  if (p.inline !== null) return Buffer.from(p.inline);
  const where = p.path ?? "";
  if (REMOTE.test(where)) return download(where, p.checksums);
  const file = scriptFile(where, ctx.projectDir);
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProvisionError(
      code === "ENOENT"
        ? `\`path\` for shell provisioner does not exist on the host system: ${file} (path: "${where}" in ${ctx.vagrantfile}).`
        : `The shell provisioner's script ${file} (path: "${where}" in ${ctx.vagrantfile}) cannot be read: ${errorMessage(err)}`,
      "Fix `path:` in the Vagrantfile (a relative path starts at the Vagrantfile's folder), or create the script.",
    );
  }
}

function scriptFile(where: string, projectDir: string): string {
  return path.resolve(projectDir, where.replace(/^~(?=$|[\\/])/, os.homedir()));
}

async function download(url: string, checksums: Record<string, string>): Promise<Buffer> {
  if (!/^https?:/i.test(url))
    throw new ProvisionError(`Hangar cannot download the shell provisioner's script ${url}: only http and https are supported.`, "Download it next to the Vagrantfile and give its path.");
  let body: Buffer;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new ProvisionError(`Downloading the shell provisioner's script ${url} failed: ${errorMessage(err)}`, "Check the address and this computer's network.");
  }
  for (const [algorithm, expected] of Object.entries(checksums)) {
    const actual = createHash(algorithm).update(body).digest("hex");
    if (actual !== expected.trim().toLowerCase())
      throw new ProvisionError(`The ${algorithm} checksum of the script downloaded from ${url} is ${actual}, not ${expected} as the Vagrantfile expects.`, "Fix the checksum, or the address.");
  }
  return body;
}

/** Vagrant's "Running: …" line: `script: NAME` for a shell with `name:`, else the script's path (host file or address), else "inline script". */
export function scriptLabel(p: Provisioner, projectDir: string): string {
  if (typeof p.options.name === "string") return `script: ${p.options.name}`;
  if (p.path !== null) return REMOTE.test(p.path) ? p.path : scriptFile(p.path, projectDir);
  return "inline script";
}

/**
 * Vagrant's shell provisioner over SSH: the script uploaded as the SSH user to
 * upload_path, then run there with args and env, as root through sudo unless
 * `privileged: false`. Its output streams line by line; a non-zero exit fails.
 */
export async function runShell(p: Provisioner, ctx: ProvisionContext, session: MachineSession, say: Say): Promise<void> {
  // A provisioner that only resets or reboots has no script (Vagrant returns before uploading).
  if (p.inline === null && p.path === null) return;
  const raw = await scriptBytes(p, ctx);
  const script = p.binary ? raw : unixLineEndings(raw);
  // Uploaded as the SSH user (Vagrant's scp), so it owns the file: Vagrant's `chown -R USER` afterwards has nothing left to do.
  const up = await session.run(`mkdir -p ${shellQuote(path.posix.dirname(p.uploadPath))} && cat > ${shellQuote(p.uploadPath)}`, { stdin: script });
  if (up.code !== 0)
    throw new ProvisionError(
      `Uploading the script to ${p.uploadPath} in '${ctx.machine.name}' as ${ctx.sshUser} failed: ${up.stderr.trim() || `exit status ${up.code}`}`,
      `The SSH user must be able to write upload_path, as in Vagrant: choose another upload_path, or remove that file in the guest.`,
    );
  say(`Running: ${scriptLabel(p, ctx.projectDir)}`);
  const out = lineBuffer((line) => say(line, "stdout"));
  const err = lineBuffer((line) => say(line, "stderr"));
  const r = await session.run(guestCommand(shellCommand(p), p.privileged, ctx.machine.ssh, ctx.sshUser), { onStdout: (d) => out.push(d), onStderr: (d) => err.push(d) });
  out.close();
  err.close();
  if (r.code !== 0) {
    const label = p.name ? `'${p.name}' shell` : "shell";
    const tail = (r.stdout + r.stderr).trim().split("\n").slice(-20).join("\n");
    throw new ProvisionError(`The ${label} provisioner of ${ctx.machine.name} exited with status ${r.code}.${tail ? `\n${tail}` : ""}`, "Fix the script, then run `hangar provision`.");
  }
}

/** Vagrant's ANSIEscapeCodeRemover's patterns, each after ESC: cursor moves, screen and line clears. */
const ANSI_CODES = ["\\[\\d*[ABCD]", "\\[(\\d*;)?\\d*[HF]", "\\[(s|u|2J|K)", "\\[=\\d*[hl]", "\\[\\?[1-9][hl]", "\\[20[hl]", "[DME78H]", "\\[[0-3]?[JK]"].map(
  (p) => new RegExp(String.fromCharCode(0x1b) + p, "g"),
);

/** Vagrant removes these from a script's output; colours stay. */
export function removeAnsiEscapes(text: string): string {
  return ANSI_CODES.reduce((t, re) => t.replace(re, ""), text);
}

/** Vagrant's LineBuffer: whole lines with trailing blanks stripped; a line longer than 5,000 characters goes out in pieces. */
export function lineBuffer(emit: (line: string) => void): { push(d: Buffer): void; close(): void } {
  // A UTF-8 character may be split between two chunks.
  const text = new StringDecoder("utf8");
  let rest = "";
  return {
    push(d) {
      rest += removeAnsiEscapes(text.write(d));
      for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n")) {
        emit(rest.slice(0, nl).trimEnd());
        rest = rest.slice(nl + 1);
      }
      if (rest.length > 5000) {
        emit(rest);
        rest = "";
      }
    },
    close() {
      rest += text.end();
      if (rest) emit(rest);
      rest = "";
    },
  };
}
