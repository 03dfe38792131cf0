import { promises as fs } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../util/errors";
import type { MachineConfig, Provisioner } from "../vagrantfile/machine-config";
import { shellQuote } from "../util/shell-quote";
import type { MachineSession } from "./machine-session";

export class ProvisionError extends HangarError {}

export interface ProvisionOptions {
  /** First up of the machine: `run: once` provisioners run; later ups run only `always`. */
  firstUp: boolean;
  /** `--provision-with`: only these provisioner names (or types). */
  only?: string[];
  /** Explicit `provision` command: `never` ones still do not run, `once` ones run again. */
  explicit?: boolean;
  /** Each output line, already prefixed with the machine's name. */
  onLine(line: string, stream: "stdout" | "stderr"): void;
}

/**
 * Runs a machine's shell and file provisioners in Vagrant's order (global
 * first, then the machine's) with Vagrant's `run` rules. A non-zero exit
 * stops provisioning with the script's output in the error. Other
 * provisioner types are skipped with a note (validation already warned).
 */
export async function runProvisioners(machine: MachineConfig, projectDir: string, session: MachineSession, o: ProvisionOptions): Promise<number> {
  let ran = 0;
  for (const [i, p] of machine.provisioners.entries()) {
    const label = p.name ?? `${p.type} #${i + 1}`;
    if (o.only?.length && !o.only.includes(p.name ?? "") && !o.only.includes(p.type)) continue;
    if (p.run === "never" && !o.only?.length) continue;
    if (p.run === "once" && !o.firstUp && !o.explicit) continue;
    if (p.type === "shell") await runShell(machine.name, label, p, projectDir, session, o);
    else if (p.type === "file") await runFile(machine.name, p, projectDir, session, o);
    else {
      o.onLine(`${machine.name}: skipping the ${p.type} provisioner (Hangar runs shell and file provisioners)`, "stderr");
      continue;
    }
    ran++;
  }
  return ran;
}

async function runShell(name: string, label: string, p: Provisioner, projectDir: string, session: MachineSession, o: ProvisionOptions): Promise<void> {
  const script = p.inline ?? (p.path ? await fs.readFile(path.resolve(projectDir, p.path), "utf8") : undefined);
  if (script === undefined) throw new ProvisionError(`Shell provisioner ${label} of ${name} has neither inline nor path.`);
  o.onLine(`${name}: Running provisioner: ${label}...`, "stdout");
  const upload = "/tmp/vagrant-shell";
  const up = await session.run(`cat > ${upload} && chmod +x ${upload}`, { stdin: script });
  if (up.code !== 0) throw new ProvisionError(`Uploading the ${label} script to ${name} failed: ${up.stderr.trim()}`);
  const env = Object.entries(p.env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}; `)
    .join("");
  const args = p.args.map(shellQuote).join(" ");
  const prefix = (stream: "stdout" | "stderr") => lineSplitter((line) => o.onLine(`${name}: ${line}`, stream));
  const outLines = prefix("stdout");
  const errLines = prefix("stderr");
  const r = await session.run(`${env}sh ${upload} ${args}`.trim(), { onStdout: (d) => outLines.push(d), onStderr: (d) => errLines.push(d) });
  outLines.flush();
  errLines.flush();
  if (r.code !== 0) {
    throw new ProvisionError(
      `The ${label} provisioner of ${name} exited with status ${r.code}.\n${(r.stdout + r.stderr).trim().split("\n").slice(-20).join("\n")}`,
      "Fix the script, then run `hangar provision`.",
    );
  }
}

async function runFile(name: string, p: Provisioner, projectDir: string, session: MachineSession, o: ProvisionOptions): Promise<void> {
  if (!p.source || !p.destination) throw new ProvisionError(`A file provisioner of ${name} needs source and destination.`);
  const data = await fs.readFile(path.resolve(projectDir, p.source));
  o.onLine(`${name}: Uploading ${p.source} to ${p.destination}`, "stdout");
  const dest = p.destination.replace(/^~\//, "/root/");
  const r = await session.run(`mkdir -p ${shellQuote(path.posix.dirname(dest))} && cat > ${shellQuote(dest)}`, { stdin: data });
  if (r.code !== 0) throw new ProvisionError(`Uploading ${p.source} to ${name}:${p.destination} failed: ${r.stderr.trim()}`);
}

function lineSplitter(emit: (line: string) => void): { push(d: Buffer): void; flush(): void } {
  let rest = "";
  return {
    push(d) {
      rest += d.toString();
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      lines.forEach(emit);
    },
    flush() {
      if (rest) emit(rest);
      rest = "";
    },
  };
}
