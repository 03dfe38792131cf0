import { BoxStore } from "../../core/boxes/box-store";
import { CliCommand, UsageError, hangarHome } from "../cli-command";

export const boxList: CliCommand = {
  words: ["box", "list"],
  usage: "hangar box list [--json]",
  summary: "List the boxes in the box store (HANGAR_HOME/boxes).",
  async run(args, io) {
    const json = args.includes("--json");
    const unknown = args.filter((a) => a !== "--json");
    if (unknown.length) throw new UsageError(`Unknown argument: ${unknown[0]}`);
    const store = new BoxStore(hangarHome(io));
    const boxes = await store.list();
    if (json) {
      io.out(JSON.stringify({ boxes }, null, 2));
      return 0;
    }
    if (!boxes.length) {
      io.out(`There are no installed boxes (box store: ${store.root}).`);
      return 0;
    }
    const width = Math.max(...boxes.map((b) => b.name.length));
    for (const b of boxes) {
      io.out(`${b.name.padEnd(width)} (${b.provider}, ${b.version})${b.problem ? `  ! ${b.problem}` : ""}`);
    }
    return 0;
  },
};
