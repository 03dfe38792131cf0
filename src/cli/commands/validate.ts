import { hasErrors, loadVagrantfile } from "../../core/vagrantfile/load-vagrantfile";
import { RubyEvaluator } from "../../core/vagrantfile/ruby-evaluator";
import { findVagrantfile } from "../../core/vagrantfile/vagrantfile-locator";
import { validationReport } from "../../core/vagrantfile/validation-report";
import { CliCommand, UsageError } from "../cli-command";

/**
 * `hangar validate [--json]`: evaluates the Vagrantfile found from the current
 * folder upwards and checks it like `vagrant validate`. With --json, exactly
 * one JSON document on stdout: {"machines":[…]} or {"error":…, "line":…}.
 */
export const validate: CliCommand = {
  words: ["validate"],
  usage: "hangar validate [--json]",
  summary: "Evaluate and check the Vagrantfile (found from this folder upwards).",
  async run(args, io) {
    const json = args.includes("--json");
    const unknown = args.filter((a) => a !== "--json");
    if (unknown.length) throw new UsageError(`Unknown argument: ${unknown[0]}`);
    const file = await findVagrantfile(io.cwd, io.env);
    if (!file) {
      const message = `No Vagrantfile found in ${io.cwd} or its parent folders. Create one (the Hangar view's "Create Vagrantfile"), or run this in your project's folder.`;
      if (json) io.out(JSON.stringify({ error: message, line: null }));
      else io.err(message);
      return 1;
    }
    const evaluator = new RubyEvaluator();
    try {
      const result = await loadVagrantfile(file, evaluator, io.env);
      if (json) {
        io.out(JSON.stringify(validationReport(result)));
      } else {
        if (result.output) io.err(result.output.trimEnd());
        for (const i of result.issues) io.err(`${i.severity === "error" ? "Error" : "Warning"}: ${file}${i.line ? `:${i.line}` : ""}${i.machine ? ` (${i.machine})` : ""}: ${i.message}`);
        if (!hasErrors(result)) io.out(`Vagrantfile validated successfully: ${result.machines.map((m) => m.name).join(", ")}.`);
      }
      return hasErrors(result) ? 1 : 0;
    } finally {
      evaluator.dispose();
    }
  },
};
