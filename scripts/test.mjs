// `npm test`: every level, in order — unit (no emulator), system (real guest,
// real CLI binaries), vscode (inside a real VS Code). Each level runs even if
// an earlier one failed; the exit code is non-zero if any failed, and the
// last lines repeat each runner's own summary.
import { spawn } from "node:child_process";

const levels = [
  { name: "build", cmd: ["npm", "run", "--silent", "build"] },
  { name: "unit", cmd: ["node", "scripts/node-tests.mjs", "test/unit"] },
  { name: "system", cmd: ["node", "scripts/node-tests.mjs", "test/system", "--serial"] },
  { name: "vscode", cmd: ["node", "--import", "tsx", "test/vscode/launch/code-server.ts"] },
];
const only = process.argv.slice(2);
const summaries = [];
let failed = false;

for (const level of levels) {
  if (only.length && level.name !== "build" && !only.includes(level.name)) continue;
  console.log(`\n=== ${level.name} ===`);
  const started = Date.now();
  const { code, tail } = await run(level.cmd);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = summarize(tail);
  summaries.push(`${level.name.padEnd(7)} ${code === 0 ? "ok    " : "FAILED"} ${seconds.padStart(6)} s  ${summary}`);
  if (code !== 0) {
    failed = true;
    if (level.name === "build") break; // nothing else can run without the build
  }
}
console.log(`\n=== summary ===\n${summaries.join("\n")}`);
process.exit(failed ? 1 : 0);

function run([cmd, ...args]) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const pass = (stream) => (chunk) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-20_000);
    };
    child.stdout.on("data", pass(process.stdout));
    child.stderr.on("data", pass(process.stderr));
    child.on("close", (code) => resolve({ code: code ?? 1, tail }));
  });
}

/** The runner's own closing counts: node's test runner ("ℹ pass N"), or the suite's "vscode: N passed, N failed". */
function summarize(text) {
  const plain = text.match(/^\S*:? ?\d+ passed, \d+ failed.*$/m);
  if (plain) return plain[0];
  const count = (k) => text.match(new RegExp(`^ℹ ${k} (\\d+)$`, "m"))?.[1];
  if (count("tests") !== undefined) return `${count("tests")} tests: ${count("pass")} passed, ${count("fail")} failed, ${count("skipped")} skipped`;
  return "";
}
