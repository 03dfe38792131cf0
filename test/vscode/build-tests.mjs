// Compiles test/vscode/suite/*.ts into out/test/vscode/suite/*.js for VS Code's
// extension host. `vscode` is provided by the host; mocha is loaded from the
// repository's node_modules at run time (out/ lives inside the repository).
import * as esbuild from "esbuild";
import { rm } from "node:fs/promises";
import { globSync } from "glob";

const entryPoints = globSync("test/vscode/suite/{index,*.test}.ts", { posix: true });
await rm("out/test/vscode", { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outdir: "out/test/vscode/suite",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: "inline",
  external: ["vscode", "mocha"],
  logLevel: "warning",
});
