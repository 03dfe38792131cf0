// Runs every bench/*.bench.ts in turn. Each benchmark measures Hangar and a
// reference in the same run and prints their ratio, so results compare across
// machines of different speed. Usage: npm run bench [-- name-filter]
import { readdirSync } from "node:fs";
import * as path from "node:path";

export interface BenchResult {
  name: string;
  /** Hangar's measurement and the reference's, same unit. */
  value: number;
  reference: number;
  unit: string;
  /** The target ratio value/reference (lower is better); reported, and a miss is flagged. */
  targetRatio?: number;
}

async function main(): Promise<void> {
  const filter = process.argv[2] ?? "";
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith(".bench.ts") && f.includes(filter))
    .sort();
  for (const file of files) {
    const mod = (await import(path.join(__dirname, file))) as { run(): Promise<BenchResult[]> };
    for (const r of await mod.run()) {
      const ratio = r.value / r.reference;
      const verdict = r.targetRatio === undefined ? "" : ratio <= r.targetRatio ? `  (target <= ${r.targetRatio}x: met)` : `  (target <= ${r.targetRatio}x: MISSED)`;
      console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit} vs reference ${r.reference.toFixed(1)} ${r.unit} = ${ratio.toFixed(2)}x${verdict}`);
    }
  }
}

void main();
