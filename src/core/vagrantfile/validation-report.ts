import type { VagrantfileResult } from "./load-vagrantfile";
import type { MachineConfig } from "./machine-config";

/** The document `hangar validate --json` prints: machines when valid, else the first error's message and line. */
export type ValidationReport =
  | { machines: Array<Omit<MachineConfig, "ssh">>; warnings: VagrantfileResult["issues"]; output: string }
  | { error: string; line: number | null; issues: VagrantfileResult["issues"]; output: string };

export function validationReport(result: VagrantfileResult): ValidationReport {
  const errors = result.issues.filter((i) => i.severity === "error");
  if (errors.length) return { error: errors.map((e) => e.message).join("\n"), line: errors[0].line, issues: result.issues, output: result.output };
  return { machines: result.machines.map(({ ssh: _ssh, ...m }) => m), warnings: result.issues, output: result.output };
}
