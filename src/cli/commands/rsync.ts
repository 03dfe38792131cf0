import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";
import { withProject } from "./machine-lifecycle";

function machineArg(args: string[]): string | undefined {
  if (args.length > 1 || args.some((a) => a.startsWith("-"))) throw new UsageError(`Unexpected arguments: ${args.join(" ")}`);
  return args[0];
}

/** `hangar rsync [NAME]`: copies rsync-type synced folders into a running machine once (Vagrant's `rsync`). */
export const rsync: CliCommand = {
  words: ["rsync"],
  usage: "hangar rsync [NAME]",
  summary: "Copy a machine's rsync-type synced folders into it now.",
  run: (args, io) =>
    withProject(io, async (p) => {
      const all = await p.configs();
      const name = machineArg(args) ?? (all.find((m) => m.primary) ?? all[0]).name;
      const r = await p.syncFolders(name);
      for (const f of r.folders) io.out(`${name}: synced ${f}`);
      return 0;
    }),
};

/**
 * `hangar rsync-auto [NAME]`: copies, then follows host changes into the
 * machine until interrupted (Ctrl-C) or until its standard input closes when
 * that is not a terminal (scripts, tests).
 */
export const rsyncAuto: CliCommand = {
  words: ["rsync-auto"],
  usage: "hangar rsync-auto [NAME]",
  summary: "Copy a machine's rsync-type synced folders, then follow host changes (Ctrl-C stops).",
  run: (args, io) =>
    withProject(io, async (p) => {
      const all = await p.configs();
      const name = machineArg(args) ?? (all.find((m) => m.primary) ?? all[0]).name;
      let failed: Error | undefined;
      const r = await p.syncFolders(name, {
        follow: true,
        onBatch: (guest, b) => io.out(`${name}: ${guest}: ${b.written} written, ${b.deleted} deleted (${b.latencyMs} ms after the change)`),
        onError: (err) => {
          failed = err;
          io.err(`${name}: ${err.message}`);
        },
      });
      for (const f of r.folders) io.out(`${name}: following ${f}`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve).once("SIGTERM", resolve);
        if (!process.stdin.isTTY) process.stdin.on("end", resolve).on("close", resolve).resume();
      });
      await r.stop();
      return failed ? 1 : 0;
    }),
};
