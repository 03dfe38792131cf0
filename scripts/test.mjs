// `npm test`: every level, in order — unit (no emulator), system (real guest,
// real CLI binaries), vscode (inside a real VS Code). Each level runs even if
// an earlier one failed; the exit code is non-zero if any failed, and the
// last lines repeat each runner's own summary and the total time.
//
// The .vsix is packaged once, first (its production build replaces dist/,
// so it must come before the development build the levels run on), to
// HANGAR_TEST_VSIX when set (CI keeps it), else to a temporary file; the
// levels find it in HANGAR_TEST_VSIX (the system test that installs it).
// Usage: node scripts/test.mjs [unit] [system] [vscode]   (default: all)
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const only = process.argv.slice(2);
const wants = (name) => !only.length || only.includes(name);
const keepVsix = !!process.env.HANGAR_TEST_VSIX;
const vsix = process.env.HANGAR_TEST_VSIX || path.join(mkdtempSync(path.join(os.tmpdir(), "hangar-vsix-")), "hangar.vsix");
process.env.HANGAR_TEST_VSIX = vsix;

// Each level has a deadline: a hung test fails its level (and is killed with
// everything it started) instead of holding CI until its own limit.
const levels = [
  { name: "package", cmd: ["node", "scripts/package.mjs", vsix], minutes: 5, needed: wants("system") || keepVsix },
  { name: "build", cmd: ["npm", "run", "--silent", "build"], minutes: 5, needed: true },
  { name: "unit", cmd: ["node", "scripts/node-tests.mjs", "test/unit"], minutes: 10, needed: wants("unit") },
  { name: "system", cmd: ["node", "scripts/node-tests.mjs", "test/system"], minutes: 30, needed: wants("system") },
  { name: "vscode", cmd: ["node", "--import", "tsx", "test/vscode/launch/code-server.ts"], minutes: 20, needed: wants("vscode") },
];
const summaries = [];
const runStarted = Date.now();
let failed = false;

// The system level's shared fixtures (the default box, the warm engine machine: one guest, one core) are made
// while the unit level runs, which leaves the cores room; the system level finds them ready (its own
// preparation then takes no time, and repeats and reports it if this one failed). Output in test-output/.
let fixtures;

// The VS Code level runs beside the system level (its output held back and printed after it): it waits on a
// browser and a workbench most of the time (a third of the two cores when run alone), which the system
// level's guests can use: on two cores, npm test went from about 15 to under 12 minutes.
const together = wants("system") && wants("vscode");
let vscodeRun;
for (const level of levels) {
  if (!level.needed) continue;
  if ((level.name === "unit" || level.name === "system") && wants("system")) fixtures ??= prepareSystemFixtures();
  if (level.name === "system") await fixtures;
  if (level.name === "vscode" && vscodeRun) {
    const { result, started, ended, output } = await vscodeRun;
    console.log(`\n=== vscode (ran beside system) ===`);
    process.stdout.write(output());
    report(level, result, started, ended);
    continue;
  }
  if (level.name === "system" && together) {
    const vscode = levels.find((l) => l.name === "vscode");
    const started = Date.now();
    let output = "";
    vscodeRun = run(vscode.cmd, vscode.minutes, (chunk) => (output += chunk)).then((result) => ({ result, started, ended: Date.now(), output: () => output }));
  }
  console.log(`\n=== ${level.name} ===`);
  const started = Date.now();
  const result = await run(level.cmd, level.minutes);
  if (!report(level, result, started) && level.name === "build") break; // nothing else can run without the build
}
const total = (Date.now() - runStarted) / 1000;
console.log(`\n=== summary ===\n${summaries.join("\n")}\ntotal   ${failed ? "FAILED" : "ok    "} ${total.toFixed(1).padStart(6)} s  (${Math.floor(total / 60)} min ${Math.round(total % 60)} s)`);
process.exit(failed ? 1 : 0);

/** Adds a level's line to the summary; false when it failed. */
function report(level, { code, tail, timedOut }, started, ended = Date.now()) {
  const seconds = ((ended - started) / 1000).toFixed(1);
  const summary = level.name === "package" ? vsix : summarize(tail);
  const note = timedOut ? `timed out after ${level.minutes} min and was killed; ${summary}` : summary;
  summaries.push(`${level.name.padEnd(7)} ${code === 0 ? "ok    " : "FAILED"} ${seconds.padStart(6)} s  ${note}`);
  if (code !== 0) failed = true;
  return code === 0;
}

/** Runs a level's command; its output goes to ours, or to `sink` when given (a level running beside another). */
function run([cmd, ...args], minutes, sink) {
  return new Promise((resolve) => {
    // Its own process group, so a deadline kills the machines and browsers it started too.
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let timedOut = false;
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${cmd} ${args.join(" ")}: no result after ${minutes} minutes; stopping it.`);
      // TERM first: the test runner then prints what the files still running have said so far.
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 5_000).unref();
    }, minutes * 60_000);
    let tail = "";
    const pass = (stream) => (chunk) => {
      if (sink) sink(chunk.toString());
      else stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-20_000);
    };
    child.stdout.on("data", pass(process.stdout));
    child.stderr.on("data", pass(process.stderr));
    child.on("close", (code) => {
      clearTimeout(timer);
      // Whatever the level left behind (a daemon of a failed test) goes with it.
      kill("SIGKILL");
      resolve({ code: timedOut ? 1 : (code ?? 1), tail, timedOut });
    });
  });
}

function prepareSystemFixtures() {
  mkdirSync("test-output", { recursive: true });
  const log = openSync(path.join("test-output", "system-fixtures.log"), "w");
  const prepare = (what) => `"${process.execPath}" --import tsx test/system/fixtures/prepare-shared.ts ${what}`;
  // code-server too, when the VS Code level runs beside the system level: both would otherwise install it at once.
  const codeServer = together ? "bash scripts/install-code-server.sh & " : "";
  const child = spawn("sh", ["-c", `${codeServer}${prepare("default-box")} && ${prepare("warm-engine")}; wait`], { stdio: ["ignore", log, log] });
  // (bounded: the system level prepares them itself, under its own deadline, if this one is stopped)
  const timer = setTimeout(() => child.kill("SIGKILL"), 10 * 60_000);
  return new Promise((resolve) => child.on("close", () => (clearTimeout(timer), resolve())));
}

/** The runner's own closing counts: node's test runner ("ℹ pass N", the last ones printed), or the suite's "vscode: N passed, N failed". */
function summarize(text) {
  const plain = text.match(/^\S*:? ?\d+ passed, \d+ failed.*$/m);
  if (plain) return plain[0];
  const count = (k) => [...text.matchAll(new RegExp(`^ℹ ${k} (\\d+)$`, "gm"))].pop()?.[1];
  if (count("tests") !== undefined) return `${count("tests")} tests: ${count("pass")} passed, ${count("fail")} failed, ${count("skipped")} skipped`;
  return "";
}
