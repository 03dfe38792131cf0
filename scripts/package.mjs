// `npm run package`: a production build, the default box ready made in
// dist/box, then hangar-<version>.vsix with @vscode/vsce. Everything the
// extension needs is bundled into dist/, so node_modules stays out
// (--no-dependencies) and the .vsix installs offline; with the box in it, the
// first `up` of hangar/debian-busybox needs no network either.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const { name, version } = JSON.parse(readFileSync("package.json", "utf8"));
// Optional argument: where to write the .vsix (default: the repository root).
const out = process.argv[2] ?? `${name}-${version}.vsix`;
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { stdio: "inherit", env });
run(process.execPath, ["esbuild.mjs", "--production"]);
shipDefaultBox();
run(process.execPath, ["node_modules/@vscode/vsce/vsce", "package", "--no-dependencies", "--allow-missing-repository", "--out", out]);
console.log(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KiB`);

/**
 * Builds the default box with the production CLI (from Debian packages: the
 * mirror is this computer's apt configuration, HANGAR_DEBIAN_MIRROR or
 * hangar.debianMirror's environment) and copies it to dist/box in the form
 * src/core/boxes/default-box/builtin-box.ts reads: its files and box.json
 * naming it.
 * The build's home is kept between runs in this user's cache, so the
 * packages are downloaded once.
 */
function shipDefaultBox() {
  const home = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "hangar-dev", "package-home");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  const boxes = path.join(home, "boxes");
  rmSync(boxes, { recursive: true, force: true });
  run(process.execPath, ["dist/cli.js", "box", "build"], { ...process.env, HANGAR_HOME: home });
  const boxName = "hangar/debian-busybox";
  const versions = readdirSync(path.join(boxes, boxName.replace("/", "-VAGRANTSLASH-")));
  if (versions.length !== 1) throw new Error(`expected one built version of ${boxName}, found ${versions.join(", ") || "none"}`);
  const built = path.join(boxes, boxName.replace("/", "-VAGRANTSLASH-"), versions[0], "embedded");
  const ship = path.join("dist", "box");
  mkdirSync(ship, { recursive: true });
  // No booted state (each computer's first up makes its own), no bootstrap key (each install makes its own: a private
  // key is not published, and vsce refuses one).
  for (const file of readdirSync(built).filter((f) => !f.endsWith(".state") && f !== "bootstrap_key")) copyFileSync(path.join(built, file), path.join(ship, file));
  writeFileSync(path.join(ship, "box.json"), JSON.stringify({ name: boxName, version: versions[0] }, null, 2) + "\n");
  console.log(`dist/box: ${boxName} ${versions[0]}`);
}
