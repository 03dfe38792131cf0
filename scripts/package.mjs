// `npm run package`: a production build, then hangar-<version>.vsix with
// @vscode/vsce. Everything the extension needs is bundled into dist/, so
// node_modules stays out (--no-dependencies) and the .vsix installs offline.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";

const { name, version } = JSON.parse(readFileSync("package.json", "utf8"));
// Optional argument: where to write the .vsix (default: the repository root).
const out = process.argv[2] ?? `${name}-${version}.vsix`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });
run(process.execPath, ["esbuild.mjs", "--production"]);
run(process.execPath, ["node_modules/@vscode/vsce/vsce", "package", "--no-dependencies", "--allow-missing-repository", "--out", out]);
console.log(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KiB`);
