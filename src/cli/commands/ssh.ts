import { promises as fs } from "node:fs";
import { Client } from "ssh2";
import { HangarError } from "../../core/util/errors";
import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";
import { withProject } from "./machine-lifecycle";

/**
 * `hangar ssh [NAME] [-c CMD]`: with -c, runs CMD in the guest, prints its
 * output (stderr apart) and exits with its exit code; without, an interactive
 * shell on a pty. Connects to the machine's relay on 127.0.0.1 with the
 * machine's own key.
 */
export const ssh: CliCommand = {
  words: ["ssh"],
  usage: "hangar ssh [NAME] [-c COMMAND]",
  summary: "Run a command in a machine (-c), or open a shell in it.",
  run: (args, io) =>
    withProject(io, async (project) => {
      const c = args.indexOf("-c");
      const command = c >= 0 ? args[c + 1] : undefined;
      if (c >= 0 && command === undefined) throw new UsageError("-c needs a command.");
      const rest = args.filter((_, i) => c < 0 || (i !== c && i !== c + 1));
      if (rest.length > 1 || rest.some((a) => a.startsWith("-"))) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
      const all = await project.configs();
      const name = rest[0] ?? (all.find((m) => m.primary) ?? all[0]).name;
      const target = await project.sshTarget(name);
      const privateKey = await fs.readFile(target.keyFile, "utf8");
      const client = new Client();
      await new Promise<void>((resolve, reject) =>
        client
          .once("ready", resolve)
          // .on: ssh2 can report a second error (the socket lost after a handshake timeout); unheard, it would crash the process.
          .on("error", (err) => reject(new HangarError(`SSH to machine '${name}' failed: ${err.message}`, `\`hangar console ${name}\` reaches its serial console without the network.`)))
          .connect({ host: "127.0.0.1", port: target.port, username: target.user, privateKey, readyTimeout: 30_000 }),
      );
      try {
        return command !== undefined ? await runCommand(client, command) : await interactive(client);
      } finally {
        client.end();
      }
    }),
};

function runCommand(client: Client, command: string): Promise<number> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let code = 0;
      channel.on("data", (d: Buffer) => process.stdout.write(d));
      channel.stderr.on("data", (d: Buffer) => process.stderr.write(d));
      channel.on("exit", (c: number | null, signal?: string) => (code = c ?? (signal ? 128 : 1)));
      // Like `ssh host cmd`: piped or redirected stdin reaches the command (`hangar ssh -c 'sh -s' < script`); a terminal's does not.
      const stdin = process.stdin;
      if (stdin.isTTY) channel.end();
      else stdin.pipe(channel);
      channel.on("close", () => {
        stdin.unpipe(channel);
        if (!stdin.isTTY) stdin.destroy();
        resolve(code);
      });
    });
  });
}

function interactive(client: Client): Promise<number> {
  const stdin = process.stdin;
  const tty = stdin.isTTY && process.stdout.isTTY;
  return new Promise((resolve, reject) => {
    const pty = tty ? { term: process.env.TERM ?? "xterm-256color", cols: process.stdout.columns, rows: process.stdout.rows } : false;
    client.shell(pty === false ? {} : pty, (err, channel) => {
      if (err) return reject(err);
      if (tty) stdin.setRawMode(true);
      stdin.pipe(channel);
      channel.pipe(process.stdout);
      channel.stderr.pipe(process.stderr);
      const onResize = (): void => void channel.setWindow(process.stdout.rows, process.stdout.columns, 0, 0);
      process.stdout.on("resize", onResize);
      let code = 0;
      channel.on("exit", (c: number | null) => (code = c ?? 0));
      channel.on("close", () => {
        process.stdout.off("resize", onResize);
        stdin.unpipe(channel);
        if (tty) stdin.setRawMode(false);
        stdin.pause();
        resolve(code);
      });
    });
  });
}
