import { BUILTIN_BOX_NAMES, buildBuiltinBox } from "../../core/boxes/default-box/builtin-box";
import { DEFAULT_BOX_NAME } from "../../core/boxes/default-box/default-box-builder";
import { CliCommand, UsageError, hangarHome } from "../cli-command";

export const boxBuild: CliCommand = {
  words: ["box", "build"],
  usage: "hangar box build [NAME] [--mirror URL]",
  summary: `Build a built-in box (${BUILTIN_BOX_NAMES.join(", ")}; default ${DEFAULT_BOX_NAME}) from Debian packages (mirror: --mirror, HANGAR_DEBIAN_MIRROR, or apt's configuration).`,
  async run(args, io) {
    const m = args.indexOf("--mirror");
    const mirror = m >= 0 ? args[m + 1] : undefined;
    if (m >= 0 && !mirror) throw new UsageError("--mirror needs a URL.");
    const rest = args.filter((_a, i) => m < 0 || (i !== m && i !== m + 1));
    const name = rest[0] && !rest[0].startsWith("-") ? rest.shift()! : DEFAULT_BOX_NAME;
    if (rest.length) throw new UsageError(`Unknown argument: ${rest[0]}`);
    if (!BUILTIN_BOX_NAMES.includes(name))
      throw new UsageError(`${name} is not a built-in box: hangar box build makes ${BUILTIN_BOX_NAMES.join(" or ")}. Add other boxes with hangar box add NAME URL.`);
    const tty = process.stderr.isTTY;
    let last = "";
    const built = await buildBuiltinBox(name, {
      hangarHome: hangarHome(io),
      mirror,
      env: io.env,
      onProgress: (fraction, message) => {
        const line = `==> ${message} (${Math.round(fraction * 100)}%)`;
        if (tty) process.stderr.write(`\r\x1b[2K${line}`);
        else if (message !== last) io.err(line);
        last = message;
      },
    });
    if (tty) process.stderr.write("\n");
    io.out(`Built ${name} ${built.version} in ${built.dir}`);
    if (built.initrdSha256) io.out(`initramfs sha256 ${built.initrdSha256}`);
    for (const p of built.packages) io.out(`  ${p}`);
    return 0;
  },
};
