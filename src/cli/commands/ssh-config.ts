import { HangarError } from "../../core/util/errors";
import { sshConfigBlock } from "../../core/machines/ssh-config";
import type { CliCommand } from "../cli-command";
import { UsageError } from "../cli-command";
import { withProject } from "./machine-lifecycle";

/**
 * `hangar ssh-config [NAME...] [--host ALIAS]`: OpenSSH `Host` blocks for
 * running machines (all of them without names), like `vagrant ssh-config`:
 * `hangar ssh-config > cfg && ssh -F cfg default`.
 */
export const sshConfig: CliCommand = {
  words: ["ssh-config"],
  usage: "hangar ssh-config [NAME...] [--host ALIAS]",
  summary: "Print OpenSSH configuration for running machines (ssh -F, scp, sftp).",
  run: (args, io) =>
    withProject(io, async (project) => {
      const h = args.indexOf("--host");
      const alias = h >= 0 ? args[h + 1] : undefined;
      if (h >= 0 && !alias) throw new UsageError("--host needs a name.");
      const names = args.filter((_, i) => h < 0 || (i !== h && i !== h + 1));
      if (names.some((a) => a.startsWith("-"))) throw new UsageError(`Unknown option: ${names.find((a) => a.startsWith("-"))}`);
      if (alias && names.length > 1) throw new UsageError("--host names one machine.");
      const statuses = await project.status(names);
      const running = statuses.filter((s) => s.state === "running");
      if (!running.length)
        throw new HangarError(
          names.length
            ? `${names.map((n) => `'${n}'`).join(", ")} ${names.length > 1 ? "are" : "is"} not running, so there is no SSH endpoint to describe.`
            : "No machine of this project is running, so there is no SSH endpoint to describe.",
          "Start it with `hangar up`.",
        );
      for (const s of statuses) if (s.state !== "running" && names.length) io.err(`${s.name} is ${s.state.replace("_", " ")}; it has no SSH endpoint.`);
      for (const s of running) io.out(sshConfigBlock(alias ?? s.name, await project.sshTarget(s.name)));
      return running.length === statuses.length ? 0 : 1;
    }),
};

/**
 * `hangar port [NAME] [--guest PORT]`: a running machine's forwarded ports as
 * bound (auto-corrected ports show where they moved), like `vagrant port`.
 */
export const port: CliCommand = {
  words: ["port"],
  usage: "hangar port [NAME] [--guest PORT]",
  summary: "List a running machine's forwarded ports (or print the host port of one guest port).",
  run: (args, io) =>
    withProject(io, async (project) => {
      const g = args.indexOf("--guest");
      const guest = g >= 0 ? Number(args[g + 1]) : undefined;
      if (g >= 0 && !(Number.isInteger(guest) && guest! > 0 && guest! < 65536)) throw new UsageError("--guest needs a port number (1-65535).");
      const rest = args.filter((_, i) => g < 0 || (i !== g && i !== g + 1));
      if (rest.length > 1 || rest.some((a) => a.startsWith("-"))) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
      const all = await project.configs();
      const name = rest[0] ?? (all.find((m) => m.primary) ?? all[0]).name;
      const [s] = await project.status([name]);
      if (s.state !== "running" || !s.ports) throw new HangarError(`Machine '${name}' is ${s.state.replace("_", " ")}; forwarded ports exist while it runs.`, `Start it with \`hangar up ${name}\`.`);
      if (guest !== undefined) {
        const p = s.ports.find((x) => x.guest === guest);
        if (!p) throw new HangarError(`Machine '${name}' forwards no host port to guest port ${guest}.`);
        io.out(String(p.host));
        return 0;
      }
      for (const p of s.ports)
        io.out(
          `${String(p.guest).padStart(6)} (guest) => ${p.host} (host${p.hostIp !== "127.0.0.1" ? ` ${p.hostIp}` : ""})${p.requested && p.host !== p.requested ? `  [asked for ${p.requested}]` : ""}`,
        );
      return 0;
    }),
};
