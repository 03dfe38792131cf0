#!/usr/bin/env node
import { product } from "../core/product";
import { errorMessage, HangarError } from "../core/util/errors";
import { CliCommand, CliIo, UsageError } from "./cli-command";
import { boxList } from "./commands/box-list";
import { boxBuild } from "./commands/box-build";
import { boxAdd, boxPackage, boxPull, boxPush, boxRemove } from "./commands/box-manage";
import { validate } from "./commands/validate";
import { destroy, halt, provision, reload, resume, status, suspend, up } from "./commands/machine-lifecycle";
import { ssh } from "./commands/ssh";
import { console_ } from "./commands/console";
import { rsync, rsyncAuto } from "./commands/rsync";
import { port, sshConfig } from "./commands/ssh-config";
import { snapshot } from "./commands/snapshot";
import { globalStatus } from "./commands/global-status";
import { init } from "./commands/init";
import { engineEnv, engineStart, engineStatusCommand, engineStop } from "./commands/engine";

/** Every verb, in the order `hangar help` lists them. Later verbs register here. */
const commands: CliCommand[] = [
  init,
  up,
  status,
  globalStatus,
  ssh,
  sshConfig,
  port,
  console_,
  rsync,
  rsyncAuto,
  provision,
  reload,
  halt,
  suspend,
  resume,
  destroy,
  snapshot,
  validate,
  boxList,
  boxBuild,
  boxAdd,
  boxRemove,
  boxPackage,
  boxPush,
  boxPull,
  engineStart,
  engineStop,
  engineStatusCommand,
  engineEnv,
];

function versionText(): string {
  return `${product.name} ${product.version} (v86 ${product.v86Version}, node ${process.version})`;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.usage.length), "hangar help [verb]".length);
  const lines = [
    `${product.name} ${product.version} — virtual machines and containers for development, with nothing else to install.`,
    "",
    "Usage: hangar <verb> [options]",
    "",
    ...commands.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    `  ${"hangar help [verb]".padEnd(width)}  Show this help, or one verb's usage.`,
    `  ${"hangar --version".padEnd(width)}  Print Hangar's version.`,
    "",
    "Environment: HANGAR_HOME (global state folder, default ~/.hangar).",
  ];
  return lines.join("\n");
}

function find(args: string[]): { command: CliCommand; rest: string[] } | undefined {
  for (const command of commands) {
    if (command.words.every((w, i) => args[i] === w)) return { command, rest: args.slice(command.words.length) };
  }
  return undefined;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first] = argv;
  if (first === "--version" || first === "-v" || first === "version") {
    io.out(versionText());
    return 0;
  }
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    const topic = first === "help" ? argv.slice(1) : [];
    const found = topic.length ? find(topic) : undefined;
    if (topic.length && !found) {
      io.err(`hangar: no verb "${topic.join(" ")}". Run \`hangar help\` for the list.`);
      return 2;
    }
    io.out(found ? `${found.command.usage}\n\n${found.command.summary}` : helpText());
    return 0;
  }
  const found = find(argv);
  // `hangar box`, `hangar engine`: a group's name alone (or with a wrong verb) lists the group's verbs.
  const group = commands.filter((c) => c.words.length > 1 && c.words[0] === first);
  if (!found && group.length) {
    const width = Math.max(...group.map((c) => c.usage.length));
    io.err(
      [`hangar: ${argv.length > 1 ? `unknown verb "${argv.join(" ")}"` : `\`hangar ${first}\` needs a verb`}. One of:`, ...group.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)].join("\n"),
    );
    return 2;
  }
  if (!found) {
    io.err(`hangar: unknown verb "${argv.join(" ")}". Run \`hangar help\` for the list.`);
    return 2;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hangar: ${err.message}\nUsage: ${found.command.usage}`);
      return 2;
    }
    io.err(`hangar: ${errorMessage(err)}`);
    if (!(err instanceof HangarError) && process.env.HANGAR_DEBUG && err instanceof Error) io.err(err.stack ?? "");
    return 1;
  }
}

if (require.main === module) {
  // A reader that stops early (`hangar status | head -1`) ends the output, not with a crash.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  const io: CliIo = {
    out: (t) => process.stdout.write(t + "\n"),
    err: (t) => process.stderr.write(t + "\n"),
    env: process.env,
    cwd: process.cwd(),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hangar: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
