// `npm test`: every level, in order — unit (no emulator), system (real guest,
// real CLI binaries), vscode (inside a real VS Code). Each level runs even if
// an earlier one failed; the exit code is non-zero if any failed, and the
// last lines repeat each runner's own summary.
import { spawn } from "node:child_process";

// Each level has a deadline: a hung test fails its level (and is killed with
// everything it started) instead of holding CI until its own limit.
const levels = [
  { name: "build", cmd: ["npm", "run", "--silent", "build"], minutes: 5 },
  { name: "unit", cmd: ["node", "scripts/node-tests.mjs", "test/unit"], minutes: 10 },
  { name: "system", cmd: ["node", "scripts/node-tests.mjs", "test/system", "--serial"], minutes: 30 },
  { name: "vscode", cmd: ["node", "--import", "tsx", "test/vscode/launch/code-server.ts"], minutes: 20 },
];
const only = process.argv.slice(2);
const summaries = [];
let failed = false;

for (const level of levels) {
  if (only.length && level.name !== "build" && !only.includes(level.name)) continue;
  console.log(`\n=== ${level.name} ===`);
  const started = Date.now();
  const { code, tail, timedOut } = await run(level.cmd, level.minutes);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = summarize(tail);
  const note = timedOut ? `timed out after ${level.minutes} min and was killed; ${summary}` : summary;
  summaries.push(`${level.name.padEnd(7)} ${code === 0 ? "ok    " : "FAILED"} ${seconds.padStart(6)} s  ${note}`);
  if (code !== 0) {
    failed = true;
    if (level.name === "build") break; // nothing else can run without the build
  }
}
console.log(`\n=== summary ===\n${summaries.join("\n")}`);
process.exit(failed ? 1 : 0);

function run([cmd, ...args], minutes) {
  return new Promise((resolve) => {
    // Its own process group, so a deadline kills the machines and browsers it started too.
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${cmd} ${args.join(" ")}: no result after ${minutes} minutes; killing it.`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, minutes * 60_000);
    let tail = "";
    const pass = (stream) => (chunk) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-20_000);
    };
    child.stdout.on("data", pass(process.stdout));
    child.stderr.on("data", pass(process.stderr));
    child.on("close", (code) => {
      clearTimeout(timer);
      // Whatever the level left behind (a daemon of a failed test) goes with it.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // nothing was left behind
      }
      resolve({ code: timedOut ? 1 : code ?? 1, tail, timedOut });
    });
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
