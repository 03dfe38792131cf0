import { buildDefaultBox, DEFAULT_BOX_NAME } from "../../core/boxes/default-box/default-box-builder";
import { CliCommand, UsageError, hangarHome } from "../cli-command";

export const boxBuild: CliCommand = {
  words: ["box", "build"],
  usage: "hangar box build [--mirror URL]",
  summary: `Build the default box ${DEFAULT_BOX_NAME} from Debian packages (mirror: --mirror, HANGAR_DEBIAN_MIRROR, or apt's configuration).`,
  async run(args, io) {
    const m = args.indexOf("--mirror");
    const mirror = m >= 0 ? args[m + 1] : undefined;
    if (m >= 0 && !mirror) throw new UsageError("--mirror needs a URL.");
    const unknown = args.filter((_a, i) => m < 0 || (i !== m && i !== m + 1));
    if (unknown.length) throw new UsageError(`Unknown argument: ${unknown[0]}`);
    const tty = process.stderr.isTTY;
    let last = "";
    const built = await buildDefaultBox({
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
    io.out(`Built ${DEFAULT_BOX_NAME} ${built.version} in ${built.dir}`);
    io.out(`initramfs sha256 ${built.initrdSha256}`);
    for (const p of built.packages) io.out(`  ${p}`);
    return 0;
  },
};
