import { promises as fs } from "node:fs";
import * as path from "node:path";
import { mergeMachine, toMachineConfig, type MachineConfig } from "./machine-config";
import type { VagrantfileEvaluator } from "./ruby-evaluator";
import { validateConfigNames, validateMachine, type VagrantfileIssue } from "./validate";
import { MEMORY_PROVIDERS } from "./vagrant-settings";

/** What evaluating and validating one Vagrantfile gives. */
export interface VagrantfileResult {
  file: string;
  /** In definition order; empty when Ruby failed. */
  machines: MachineConfig[];
  /** Ruby errors, then validation errors and warnings. */
  issues: VagrantfileIssue[];
  /** What the Vagrantfile printed (puts, warn). */
  output: string;
}

export function hasErrors(result: VagrantfileResult): boolean {
  return result.issues.some((i) => i.severity === "error");
}

/**
 * Evaluates `file` with real Ruby and applies Vagrant's merge and validation
 * rules. Never throws for a bad Vagrantfile: problems come back as issues.
 * Throws only when the file cannot be read or Ruby cannot run at all.
 */
export async function loadVagrantfile(
  file: string,
  evaluator: VagrantfileEvaluator,
  env: NodeJS.ProcessEnv = process.env,
  source?: string,
  platform: NodeJS.Platform = process.platform,
): Promise<VagrantfileResult> {
  const text = source ?? (await fs.readFile(file, "utf8"));
  const plainEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") plainEnv[k] = v;
  // For Vagrant::Util::Platform.windows?/darwin?/linux?: Ruby itself runs as
  // WebAssembly and cannot tell. vagrant-dsl.rb takes it out of the environment.
  plainEnv.__HANGAR_HOST_PLATFORM__ = platform;
  const record = await evaluator.evaluate(text, path.resolve(file), plainEnv);
  if (record.error) {
    const { message, line } = record.error;
    // Ruby's own syntax messages already start "syntax error"; other errors get their class as a prefix (NameError: …).
    const text = record.error.class === "SyntaxError" ? (/^syntax error/.test(message) ? message : `syntax error: ${message}`) : `${record.error.class}: ${message}`;
    return { file, machines: [], issues: [{ severity: "error", message: text, line, machine: null }], output: record.output };
  }
  const dir = path.dirname(path.resolve(file));
  const issues: VagrantfileIssue[] = validateConfigNames(record.global, null);
  const merged = record.machines.length ? record.machines.map((m) => mergeMachine(record.global, m)) : [mergeMachine(record.global, null, record.configureLine)];
  for (const m of record.machines) issues.push(...validateConfigNames(m.config, m.name));
  const machines: MachineConfig[] = [];
  for (const m of merged) {
    issues.push(...validateMachine(m, dir));
    machines.push(toMachineConfig(m, merged.length === 1, MEMORY_PROVIDERS));
  }
  const primaries = machines.filter((m) => m.primary);
  if (primaries.length > 1) {
    issues.push({
      severity: "error",
      message: `Only one machine can be primary; ${primaries.map((m) => `'${m.name}'`).join(" and ")} are marked primary: true.`,
      line: merged.find((m) => m.name === primaries[1].name)?.line ?? null,
      machine: null,
    });
  }
  return { file, machines, issues: dedupe(issues), output: record.output };
}

/** A global problem is found once per machine; keep the first. */
function dedupe(issues: VagrantfileIssue[]): VagrantfileIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}:${i.line}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
