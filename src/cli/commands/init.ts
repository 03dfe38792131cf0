import * as path from "node:path";
import { vagrantfileTemplate } from "../../core/templates/project-templates";
import { writeFileAtomic } from "../../core/util/atomic-file";
import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";

export const init: CliCommand = {
  words: ["init"],
  usage: "hangar init [BOX]",
  summary: "Create a Vagrantfile in this folder (never overwrites one).",
  async run(args, io) {
    if (args.length > 1 || args.some((a) => a.startsWith("-"))) throw new UsageError(`Unexpected arguments: ${args.join(" ")}`);
    const file = path.join(io.cwd, "Vagrantfile");
    await writeFileAtomic(file, vagrantfileTemplate(args[0]), { exclusive: true });
    io.out(`A Vagrantfile has been placed in this folder. Run \`hangar up\` to start its machine.`);
    return 0;
  },
};
