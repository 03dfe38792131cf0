// A RUN step whose command the engine machine refuses to start. dropbear's
// rare "Unable to exec" cannot be produced on demand, so a fake runtime
// (named so in each test) refuses; the retry logic around it is the real one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import * as path from "node:path";
import { engineRunStep } from "../../../../../src/core/engine/build/engine-run-step";
import type { EngineMachine } from "../../../../../src/core/engine/machine/engine-machine";
import { HangarError } from "../../../../../src/core/util/errors";

function fakeMachine(refusals: number, error = new HangarError("Running a command in the machine failed: Unable to exec")) {
  const started: string[] = [];
  const removed: string[] = [];
  const runtime = {
    async run(spec: { id: string }) {
      started.push(spec.id);
      if (started.length <= refusals) throw error;
      return 0;
    },
    async diff() {},
    async remove(id: string) {
      removed.push(id);
    },
  };
  return { machine: { runtime: async () => runtime } as unknown as EngineMachine, started, removed };
}

const step = { parentId: "sha256:" + "a".repeat(64), argv: ["true"], env: [], workingDir: "/", user: "", volumes: [], onOutput: () => undefined };

test("fake refusal: a RUN step refused once starts again in a new container, and the refused one is removed", async () => {
  const { machine, started, removed } = fakeMachine(1);
  const result = await engineRunStep(machine, undefined, "none").run(step);
  assert.equal(result.exitCode, 0);
  assert.equal(started.length, 2);
  assert.notEqual(started[0], started[1]);
  assert.deepEqual(removed, started);
  await rm(path.dirname(result.layerTar), { recursive: true, force: true });
});

test("fake refusal: three refusals in a row fail the step with the engine's error", async () => {
  const { machine, started } = fakeMachine(3);
  await assert.rejects(engineRunStep(machine, undefined, "none").run(step), /Unable to exec/);
  assert.equal(started.length, 3);
});

test("fake failure: any other error is not retried", async () => {
  const { machine, started } = fakeMachine(1, new HangarError("The engine machine ran out of memory"));
  await assert.rejects(engineRunStep(machine, undefined, "none").run(step), /out of memory/);
  assert.equal(started.length, 1);
});
