import * as path from "node:path";
import { addBox } from "../../core/boxes/box-archive";
import { BoxStore, removeBox } from "../../core/boxes/box-store";
import { MachineIndex } from "../../core/machines/machine-index";
import { HangarError } from "../../core/util/errors";
import type { CliCommand } from "../cli-command";
import { UsageError, hangarHome } from "../cli-command";
import { withProject } from "./machine-lifecycle";

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith("-")) throw new UsageError(`${name} needs a value.`);
  return v;
}

function positional(args: string[], valued: string[], flags: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (valued.includes(args[i])) i++;
    else if (flags.includes(args[i])) continue;
    else if (args[i].startsWith("-")) throw new UsageError(`Unknown option: ${args[i]}`);
    else out.push(args[i]);
  }
  return out;
}

export const boxAdd: CliCommand = {
  words: ["box", "add"],
  usage: "hangar box add FILE.box|FOLDER --name NAME [--box-version V] [--force]",
  summary: "Add a box from a .box file or a folder with metadata.json.",
  async run(args, io) {
    const [source, ...extra] = positional(args, ["--name", "--box-version"], ["--force"]);
    if (!source || extra.length) throw new UsageError("box add needs exactly one .box file or folder.");
    const name = option(args, "--name");
    if (!name) throw new UsageError("box add needs --name for a local box (as Vagrant does).");
    const dest = await addBox(hangarHome(io), path.resolve(io.cwd, source), name, option(args, "--box-version") ?? "0", args.includes("--force"));
    io.out(`Added box ${name} in ${dest}`);
    return 0;
  },
};

export const boxRemove: CliCommand = {
  words: ["box", "remove"],
  usage: "hangar box remove NAME [--box-version V] [--provider P] [--force]",
  summary: "Remove a box (refuses while a machine uses it, unless --force).",
  async run(args, io) {
    const [name, ...extra] = positional(args, ["--box-version", "--provider"], ["--force"]);
    if (!name || extra.length) throw new UsageError("box remove needs one box name.");
    const home = hangarHome(io);
    const users = (await new MachineIndex(home).list()).filter((m) => m.box === name);
    if (users.length && !args.includes("--force")) {
      throw new HangarError(`The box ${name} is used by ${users.map((u) => `'${u.name}' in ${u.dir}`).join(", ")}.`, "Destroy those machines first, or pass --force.");
    }
    const removed = await removeBox(new BoxStore(home), name, option(args, "--box-version"), option(args, "--provider"));
    if (!removed.length) throw new HangarError(`No box named ${name} is installed${option(args, "--box-version") ? ` in version ${option(args, "--box-version")}` : ""}.`);
    for (const b of removed) io.out(`Removed box ${b.name} (${b.provider}, ${b.version})`);
    return 0;
  },
};

export const boxPackage: CliCommand = {
  words: ["box", "package"],
  usage: "hangar box package [NAME] [--output FILE.box]",
  summary: "Package a running machine, as it is now, into a .box.",
  run: (args, io) =>
    withProject(io, async (p) => {
      const [machine, ...extra] = positional(args, ["--output"]);
      if (extra.length) throw new UsageError(`Unexpected arguments: ${extra.join(" ")}`);
      const all = await p.configs();
      const name = machine ?? (all.find((m) => m.primary) ?? all[0]).name;
      const out = option(args, "--output") ?? "package.box";
      await p.package(name, out);
      io.out(`Packaged machine '${name}' into ${path.resolve(p.dir, out)}`);
      return 0;
    }),
};
