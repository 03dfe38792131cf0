import { MachineIndex } from "../../core/machines/machine-index";
import type { CliCommand } from "../cli-command";
import { hangarHome } from "../cli-command";

export const globalStatus: CliCommand = {
  words: ["global-status"],
  usage: "hangar global-status",
  summary: "Every Hangar machine on this computer, in every project.",
  async run(_args, io) {
    const list = await new MachineIndex(hangarHome(io)).list();
    if (!list.length) {
      io.out("There are no Hangar machines on this computer.");
      return 0;
    }
    io.out(`${"name".padEnd(16)} ${"state".padEnd(12)} ${"box".padEnd(24)} directory`);
    for (const m of list) io.out(`${m.name.padEnd(16)} ${m.state.replace("_", " ").padEnd(12)} ${m.box.padEnd(24)} ${m.dir}`);
    return 0;
  },
};
