import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";
import { withProject } from "./machine-lifecycle";

/**
 * `hangar snapshot save|restore|list|delete|push|pop` — Vagrant's snapshot
 * verbs. A snapshot is the machine's whole saved state (memory included), so
 * restore brings back exactly that moment, running.
 */
export const snapshot: CliCommand = {
  words: ["snapshot"],
  usage: "hangar snapshot save|restore|delete [NAME] SNAPSHOT | list [NAME] | push [NAME] | pop [NAME]",
  summary: "Save, list, restore and delete machine snapshots.",
  run: (args, io) =>
    withProject(io, async (p) => {
      const [verb, ...rest] = args;
      const all = await p.configs();
      const primary = (all.find((m) => m.primary) ?? all[0]).name;
      const machineAndSnap = (): [string, string] => {
        if (rest.length === 2) return [rest[0], rest[1]];
        if (rest.length === 1) return [primary, rest[0]];
        throw new UsageError(`snapshot ${verb} needs a snapshot name.`);
      };
      switch (verb) {
        case "save": {
          const [m, s] = machineAndSnap();
          await p.snapshotSave(m, s);
          io.out(`${m}: snapshot '${s}' saved.`);
          return 0;
        }
        case "restore": {
          const [m, s] = machineAndSnap();
          await p.snapshotRestore(m, s);
          io.out(`${m}: restored snapshot '${s}'.`);
          return 0;
        }
        case "delete": {
          const [m, s] = machineAndSnap();
          await p.snapshotDelete(m, s);
          io.out(`${m}: snapshot '${s}' deleted.`);
          return 0;
        }
        case "list": {
          const m = rest[0] ?? primary;
          const list = await p.snapshots(m);
          if (!list.length) io.out(`${m}: no snapshots.`);
          for (const s of list) io.out(`${s.name}  (${s.createdAt}, ${(s.bytes / 1048576).toFixed(1)} MiB)`);
          return 0;
        }
        case "push": {
          const m = rest[0] ?? primary;
          io.out(`${m}: pushed snapshot ${await p.snapshotPush(m)}.`);
          return 0;
        }
        case "pop": {
          const m = rest[0] ?? primary;
          io.out(`${m}: popped snapshot ${await p.snapshotPop(m)}.`);
          return 0;
        }
        default:
          throw new UsageError(`Unknown snapshot verb: ${verb ?? "(none)"}`);
      }
    }),
};
