import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";
import { withProject } from "./machine-lifecycle";

const DETACH = 0x1d; // Ctrl-]

/**
 * `hangar console [NAME]`: the machine's serial console — a root shell that
 * works when SSH does not (network down, key lost) and shows the boot log.
 * On a terminal, keys go to the guest until Ctrl-] detaches; with piped input,
 * the lines are typed and the console is followed until output goes quiet.
 */
export const console_: CliCommand = {
  words: ["console"],
  usage: "hangar console [NAME]",
  summary: "Attach to a machine's serial console (Ctrl-] detaches).",
  run: (args, io) =>
    withProject(io, async (project) => {
      if (args.length > 1 || args.some((a) => a.startsWith("-"))) throw new UsageError(`Unexpected arguments: ${args.join(" ")}`);
      const all = await project.configs();
      const name = args[0] ?? (all.find((m) => m.primary) ?? all[0]).name;
      let lastOutput = Date.now();
      const session = await project.console(name, (text) => {
        lastOutput = Date.now();
        process.stdout.write(text);
      });
      const stdin = process.stdin;
      if (stdin.isTTY) {
        process.stderr.write(`Connected to ${name}'s console; Ctrl-] detaches.\r\n`);
        stdin.setRawMode(true);
        stdin.on("data", (d: Buffer) => {
          if (d.includes(DETACH)) session.close();
          else session.type(d.toString("latin1"));
        });
        await session.done;
        stdin.setRawMode(false);
        stdin.pause();
        return 0;
      }
      // Piped: type everything, then follow until the guest has been quiet for a second.
      for await (const chunk of stdin) session.type(Buffer.from(chunk as Buffer).toString("latin1"));
      lastOutput = Date.now();
      while (Date.now() - lastOutput < 1000) await new Promise((r) => setTimeout(r, 100));
      session.close();
      await session.done;
      return 0;
    }),
};
