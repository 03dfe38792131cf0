// Runs node's test runner (with tsx for TypeScript) over every *.test.ts under
// the given folder, each file in a process of its own, several files at once.
// Node 20's --test does not expand globs itself.
//
// Usage: node scripts/node-tests.mjs <folder> [--jobs N] [--serial]
//   --jobs N   files at once (default: HANGAR_TEST_JOBS, else 2 for test/system
//              — real guests, two cores — and one more than the cores elsewhere)
//   --serial   one file at a time, its output streamed as it runs
//
// Shared fixtures come first: when a system test file uses the shared default
// box (test/system/fixtures/default-box-home.ts) or the warm engine machine
// (engine-under-test.ts), those are prepared once, as jobs of their own, and
// only the files that need them wait for them; the others run meanwhile.
// Longer files start first (their last durations are kept in the temporary
// folder), so two slots end together. Each file's output is printed in one
// block when it ends (and kept in test-output/<level>/ as it runs), then one
// summary in node's own words ("ℹ tests N", "ℹ pass N", ...).
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { globSync } from "glob";

const args = process.argv.slice(2);
const folder = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--jobs");
if (!folder) {
  console.error("usage: node scripts/node-tests.mjs <folder> [--jobs N] [--serial]");
  process.exit(2);
}
const files = globSync(`${folder}/**/*.test.ts`, { posix: true }).sort();
if (!files.length) {
  console.error(`No *.test.ts files under ${folder}.`);
  process.exit(1);
}
const system = path.relative(process.cwd(), path.resolve(folder)).split(path.sep).slice(0, 2).join("/") === "test/system";
const jobsFlag = args.includes("--jobs") ? Number(args[args.indexOf("--jobs") + 1]) : undefined;
const jobs = args.includes("--serial") ? 1 : Math.max(1, jobsFlag ?? Number(process.env.HANGAR_TEST_JOBS || (system ? 2 : os.availableParallelism() + 1)));
const level = system ? "system" : path.basename(path.resolve(folder));
const logDir = path.resolve("test-output", level);
mkdirSync(logDir, { recursive: true });

// A test without its own timeout gets ten minutes: a hang fails that test, not the whole run. Each file runs
// in its process directly (no --test, whose wrapper would hold the whole file to one test's timeout); the
// level's deadline (scripts/test.mjs) bounds the files.
const nodeTest = ["--import", "tsx", "--test-reporter=spec", "--test-timeout=600000"];

// Last durations, to start long files first: this machine's own (kept in the temporary folder), else the
// ones checked in beside this script (seconds, from a run on a 2-core machine); a file never seen counts as long.
const durationsFile = path.join(os.tmpdir(), `hangar-test-durations-${level}.json`);
const durations = { ...readJson(path.join(import.meta.dirname, "test-durations.json"))?.[level], ...readJson(durationsFile) };

/** @type {Array<{ name: string, cmd: string[], needs: string[], weight: number, test: boolean }>} */
const tasks = [];
const FIXTURES = path.join("test", "system", "fixtures");
const needsOf = (file) => {
  const source = readFileSync(file, "utf8");
  const needs = [];
  if (/fixtures\/engine-under-test/.test(source)) needs.push("warm engine");
  else if (/fixtures\/default-box-home/.test(source)) needs.push("default box");
  if (/install-code-server\.sh/.test(source)) needs.push("code-server");
  return needs;
};
for (const file of files) {
  const needs = system ? needsOf(file) : [];
  tasks.push({ name: file, cmd: [process.execPath, ...nodeTest, file], needs, weight: durations[file] ?? 1e6, test: true });
}
if (tasks.some((t) => t.needs.includes("code-server"))) tasks.push({ name: "code-server", cmd: ["bash", path.join("scripts", "install-code-server.sh")], needs: [], weight: Infinity, test: false });
if (tasks.some((t) => t.needs.includes("warm engine") || t.needs.includes("default box"))) {
  const prepare = (what) => [process.execPath, "--import", "tsx", path.join(FIXTURES, "prepare-shared.ts"), what];
  tasks.push({ name: "default box", cmd: prepare("default-box"), needs: [], weight: Infinity, test: false });
  if (tasks.some((t) => t.needs.includes("warm engine"))) tasks.push({ name: "warm engine", cmd: prepare("warm-engine"), needs: ["default box"], weight: Infinity, test: false });
}

// The .vsix test installs what `npm test` packaged before every level (HANGAR_TEST_VSIX). Run without it,
// package here, before any file runs: packaging builds dist/ for production, then the development build comes back.
if (system && !process.env.HANGAR_TEST_VSIX && files.some((f) => /package\.mjs/.test(readFileSync(f, "utf8")))) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hangar-vsix-"));
  process.env.HANGAR_TEST_VSIX = path.join(dir, "hangar.vsix");
  for (const cmd of [["scripts/package.mjs", process.env.HANGAR_TEST_VSIX], ["esbuild.mjs"]]) {
    const r = spawnSync(process.execPath, cmd, { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

const started = Date.now();
const done = new Map(); // name -> ok
const results = [];
const running = new Map(); // name -> { out, child }
const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
let failed = false;

console.log(
  `${files.length} test files, ${jobs} at a time${
    tasks.some((t) => !t.test)
      ? `; shared fixtures first: ${tasks
          .filter((t) => !t.test)
          .map((t) => t.name)
          .join(", ")}`
      : ""
  }`,
);
process.on("SIGTERM", () => {
  // The level's deadline: say what was running and what it printed so far (also in test-output/).
  for (const [name, r] of running) console.log(`\n── ${name}: still running when the level was stopped ──\n${r.out}`);
  process.exit(1);
});
await new Promise((resolve) => {
  const next = () => {
    if (running.size === 0 && tasks.length === 0) return resolve();
    while (running.size < jobs) {
      const ready = tasks.filter((t) => t.needs.every((n) => done.has(n)));
      if (!ready.length) break;
      ready.sort((a, b) => b.weight - a.weight);
      const task = ready[0];
      tasks.splice(tasks.indexOf(task), 1);
      const broken = task.needs.filter((n) => done.get(n) === false);
      if (broken.length) {
        // Its fixture could not be prepared: it fails without running (the fixture's output says why).
        failed = true;
        results.push(`✖ ${task.name} (not run: ${broken.join(", ")} failed)`);
        done.set(task.name, false);
        continue;
      }
      start(task, next);
    }
  };
  next();
});

writeFileSync(durationsFile, JSON.stringify(durations, null, 1));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\n── ${level}: ${results.length} files in ${seconds} s, ${jobs} at a time ──\n${results.join("\n")}`);
for (const [k, v] of Object.entries(totals)) console.log(`ℹ ${k} ${v}`);
console.log(`ℹ duration_ms ${Date.now() - started}`);
process.exit(failed ? 1 : 0);

function start(task, next) {
  const t0 = Date.now();
  const log = createWriteStream(path.join(logDir, `${task.name.replace(/[/\\]/g, "__")}.log`));
  const entry = { out: "" };
  running.set(task.name, entry);
  if (jobs > 1) console.log(`… ${task.name}`);
  // Its own process group, so whatever it leaves behind (a daemon, an engine) can be found and stopped with it.
  const child = spawn(task.cmd[0], task.cmd.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } });
  const take = (chunk) => {
    entry.out += chunk;
    log.write(chunk);
    if (jobs === 1) process.stdout.write(chunk);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  child.on("close", (code, signal) => {
    log.end();
    running.delete(task.name);
    const s = (Date.now() - t0) / 1000;
    const ok = code === 0;
    if (!ok) failed = true;
    done.set(task.name, ok);
    if (task.test) {
      durations[task.name] = Math.round(s);
      const counts = countsOf(entry.out);
      for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
      // A file that died before node's summary still counts as a failure.
      if (!ok && !counts.fail) totals.fail += 1;
    }
    const mark = ok ? "✔" : "✖";
    results.push(`${mark} ${task.name} (${s.toFixed(1)} s)${ok ? "" : ` exit ${code ?? signal}`}`);
    if (jobs > 1) process.stdout.write(`\n── ${mark} ${task.name} (${s.toFixed(1)} s) ──\n${entry.out.replace(/^ℹ .*\n?/gm, "")}`);
    next();
  });
}

function countsOf(text) {
  const counts = {};
  for (const m of text.matchAll(/^ℹ (\w+) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
  return counts;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}
