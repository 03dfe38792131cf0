import * as path from "node:path";
import { addBox } from "../../core/boxes/box-archive";
import { pullBox, pushBox } from "../../core/boxes/box-registry";
import { BoxStore, compareVersionsDesc, removeBox } from "../../core/boxes/box-store";
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

export const boxPush: CliCommand = {
  words: ["box", "push"],
  usage: "hangar box push NAME REF [--box-version V] [--provider P]",
  summary: "Store a box in an OCI registry (REF: host[:port]/path[:tag]; the tag defaults to the box's version).",
  async run(args, io) {
    const [name, ref, ...extra] = positional(args, ["--box-version", "--provider"]);
    if (!name || !ref || extra.length) throw new UsageError("box push needs a box name and a registry reference.");
    const version = option(args, "--box-version");
    const provider = option(args, "--provider");
    const candidates = (await new BoxStore(hangarHome(io)).list())
      .filter((b) => b.name === name && !b.problem && (!version || b.version === version) && (!provider || b.provider === provider))
      .sort((a, b) => compareVersionsDesc(a.version, b.version));
    const box = candidates[0];
    if (!box) throw new HangarError(`No usable box named ${name}${version ? ` in version ${version}` : ""} is installed.`, "See `hangar box list`.");
    const { digest, shown } = await pushBox(box, ref, { env: io.env, onProgress: (line) => io.out(line) });
    io.out(`Pushed box ${box.name} ${box.version} (${box.provider}) to ${shown}`);
    io.out(`Digest: ${digest}`);
    return 0;
  },
};

export const boxPull: CliCommand = {
  words: ["box", "pull"],
  usage: "hangar box pull REF [--name NAME] [--box-version V] [--force]",
  summary: "Add a box from an OCI registry (pushed with `hangar box push`).",
  async run(args, io) {
    const [ref, ...extra] = positional(args, ["--name", "--box-version"], ["--force"]);
    if (!ref || extra.length) throw new UsageError("box pull needs exactly one registry reference.");
    const name = option(args, "--name");
    const version = option(args, "--box-version");
    const added = await pullBox(hangarHome(io), ref, { ...(name ? { name } : {}), ...(version ? { version } : {}), force: args.includes("--force"), env: io.env, onProgress: (line) => io.out(line) });
    io.out(`Added box ${added.name} ${added.version} from ${added.shown} in ${added.dest}`);
    return 0;
  },
};
