// How much the `hangar` CLI adds to Node's own start-up: `hangar --version`
// against `node -e 0` (the reference), median of several alternating runs.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { BenchResult } from "./run";

const CLI = path.resolve(__dirname, "..", "dist", "cli.js");

function timeOnce(args: string[]): number {
  const t = performance.now();
  execFileSync(process.execPath, args, { stdio: "ignore" });
  return performance.now() - t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<BenchResult[]> {
  const cli: number[] = [];
  const ref: number[] = [];
  timeOnce([CLI, "--version"]); // warm the file cache
  for (let i = 0; i < 15; i++) {
    cli.push(timeOnce([CLI, "--version"]));
    ref.push(timeOnce(["-e", "0"]));
  }
  return [{ name: "cli start-up (hangar --version vs node -e 0)", value: median(cli), reference: median(ref), unit: "ms", targetRatio: 1.5 }];
}
