// Runs node's test runner (with tsx for TypeScript) over every *.test.ts under
// the given folder. Node 20's --test does not expand globs itself.
// Usage: node scripts/node-tests.mjs <folder> [--serial]
import { spawnSync } from "node:child_process";
import { globSync } from "glob";

const [folder, ...flags] = process.argv.slice(2);
if (!folder) {
  console.error("usage: node scripts/node-tests.mjs <folder> [--serial]");
  process.exit(2);
}
const files = globSync(`${folder}/**/*.test.ts`, { posix: true }).sort();
if (!files.length) {
  console.error(`No *.test.ts files under ${folder}.`);
  process.exit(1);
}
// A test without its own timeout gets ten minutes: a hang fails that test, not the whole run.
const args = ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=600000"];
if (flags.includes("--serial")) args.push("--test-concurrency=1");
const result = spawnSync(process.execPath, [...args, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
